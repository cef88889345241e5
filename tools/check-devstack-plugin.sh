#!/bin/bash
#
# CI check of the nova-dpm devstack plugin, without a devstack checkout.
#
# 1. bash -n on every script of the plugin (and shellcheck when installed).
# 2. Dry runs of devstack/plugin.sh with devstack's functions replaced by
#    tests/devstack/devstack_stubs.sh (the ini functions really write the
#    file), asserting the nova.conf it writes, the services it would start
#    and stop, and that bad or missing local.conf variables stop it with a
#    message naming the variable.
# 3. When NOVA_DPM_CHECK_PYTHON (default: python3) can import oslo.config,
#    the written nova.conf is also parsed with the real [dpm] options.
#
# Needs bash and python3 only; runs in a few seconds. The last line is
# "N passed, N failed[, N skipped]"; the exit status is non-zero on any
# failure.

set -o pipefail

REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
PLUGIN_DIR=$REPO/devstack
STUBS=$REPO/tests/devstack/devstack_stubs.sh
INI_TOOL="python3 -I -S $REPO/tests/devstack/ini_tool.py"
CHECK_PYTHON=${NOVA_DPM_CHECK_PYTHON:-python3}
WORK=$(mktemp -d "${TMPDIR:-/tmp}/check-devstack-plugin.XXXXXX")
trap 'rm -rf "$WORK"' EXIT

# A password no other value contains, to prove it is never printed.
PASSWORD="pw-$RANDOM$RANDOM-never-logged"

PASSED=0
FAILED=0
SKIPPED=0

function pass {
    PASSED=$((PASSED + 1))
    echo "ok      $1"
}

function fail {
    FAILED=$((FAILED + 1))
    echo "FAILED  $1"
    shift
    local detail
    for detail in "$@"; do
        echo "        $detail"
    done
}

function skip {
    SKIPPED=$((SKIPPED + 1))
    echo "skipped $1"
}

# check DESCRIPTION COMMAND...: pass when COMMAND succeeds.
function check {
    local description=$1
    shift
    if "$@"; then
        pass "$description"
    else
        fail "$description" "command: $*"
    fi
}

# ini_get_all FILE SECTION OPTION: the option's values, one per line, from
# a dump of FILE made once (one python3 start per file, not per assertion).
function ini_get_all {
    local file=$1 section=$2 option=$3
    if [[ ! -f "$file.dump" || "$file" -nt "$file.dump" ]]; then
        $INI_TOOL dump "$file" > "$file.dump" 2> /dev/null || : > "$file.dump"
    fi
    awk -F '\t' -v s="$section" -v o="$option" \
        '$1 == s && $2 == o { sub(/^[^\t]*\t[^\t]*\t/, ""); print }' "$file.dump"
}

# ini_options FILE SECTION: the option names of SECTION, sorted bytewise.
function ini_options {
    ini_get_all "$1" "$2" "" > /dev/null
    awk -F '\t' -v s="$2" '$1 == s { print $2 }' "$1.dump" | LC_ALL=C sort -u
}

# expect_ini SCENARIO SECTION OPTION EXPECTED [FILE]: EXPECTED is the
# option's lines, newline separated.
function expect_ini {
    local scenario=$1 section=$2 option=$3 expected=$4
    local file=${5:-$WORK/$scenario/nova.conf}
    local actual
    actual=$(ini_get_all "$file" "$section" "$option")
    if [[ "$actual" == "$expected" ]]; then
        pass "$scenario: [$section] $option"
    else
        fail "$scenario: [$section] $option" "expected: ${expected//$'\n'/ | }" \
            "actual:   ${actual//$'\n'/ | }"
    fi
}

# expect_absent SCENARIO SECTION OPTION
function expect_absent {
    local scenario=$1 section=$2 option=$3
    local found
    found=$(ini_get_all "$WORK/$scenario/nova.conf" "$section" "$option")
    if [[ -n "$found" ]]; then
        fail "$scenario: [$section] $option is not written" "found: $found"
    else
        pass "$scenario: [$section] $option is not written"
    fi
}

# expect_rc SCENARIO RC
function expect_rc {
    local scenario=$1 expected=$2
    local actual
    actual=$(cat "$WORK/$scenario/rc")
    if [[ "$actual" == "$expected" ]]; then
        pass "$scenario: exit status $expected"
    else
        fail "$scenario: exit status $expected" "actual: $actual" \
            "stderr: $(tail -n 3 "$WORK/$scenario/stderr")"
    fi
}

# expect_in SCENARIO FILE-NAME TEXT: a fixed string is in the scenario's file.
function expect_in {
    local scenario=$1 name=$2 text=$3
    if grep -qF -- "$text" "$WORK/$scenario/$name"; then
        pass "$scenario: $name has '$text'"
    else
        fail "$scenario: $name has '$text'" \
            "$name: $(tr '\n' ' ' < "$WORK/$scenario/$name" | cut -c1-400)"
    fi
}

function expect_not_in {
    local scenario=$1 name=$2 text=$3 label=${4:-$3}
    if grep -qF -- "$text" "$WORK/$scenario/$name"; then
        fail "$scenario: $name lacks '$label'" \
            "line: $(grep -F -- "$text" "$WORK/$scenario/$name" | head -n 1 | cut -c1-200)"
    else
        pass "$scenario: $name lacks '$label'"
    fi
}

# dry_run SCENARIO LOCAL_CONF OVERRIDES SERVICES PLUGIN-ARGS...
# Runs override-defaults, settings and plugin.sh the way stack.sh does
# (errexit and xtrace on), after the localrc section of LOCAL_CONF and then
# the shell code OVERRIDES. Leaves nova.conf, calls.log, stdout, stderr and rc
# in $WORK/SCENARIO.
function dry_run {
    local scenario=$1 local_conf=$2 overrides=$3 services=$4
    shift 4
    local dir=$WORK/$scenario
    local started=$SECONDS
    mkdir -p "$dir/data" "$dir/dest"
    : > "$dir/calls.log"
    touch "$dir/hmc-ca.pem"
    if [[ ! -f "$dir/nova.conf" ]]; then
        printf '[DEFAULT]\nstate_path = /opt/stack/data/nova\n\n[database]\nconnection = sqlite://\n' > "$dir/nova.conf"
    fi
    (
        export DRYRUN_LOG=$dir/calls.log
        export DRYRUN_DIR=$dir
        export DRYRUN_PASSWORD=$PASSWORD
        ENABLED_SERVICES=$services
        DEST=$dir/dest
        DATA_DIR=$dir/data
        NOVA_CONF=$dir/nova.conf
        TEMPEST_CONFIG=$dir/tempest.conf
        NOVA_DPM_DIR=$REPO
        # shellcheck source=/dev/null
        source "$STUBS"
        set -o errexit
        # shellcheck source=/dev/null
        source <(sed -n '/^\[\[local|localrc\]\]/,/^\[\[/{/^\[\[/d;p}' "$local_conf")
        eval "$overrides"
        # As in stack.sh: the plugin's files must hide secrets themselves.
        set -o xtrace
        # shellcheck source=/dev/null
        source "$PLUGIN_DIR/override-defaults"
        # shellcheck source=/dev/null
        source "$PLUGIN_DIR/settings"
        # shellcheck source=/dev/null
        source "$PLUGIN_DIR/plugin.sh" "$@"
    ) > "$dir/stdout" 2> "$dir/stderr"
    echo $? > "$dir/rc"
    if (( SECONDS - started > 1 )); then
        echo "(dry run $scenario took $((SECONDS - started)) s)"
    fi
}

# The [dpm] option names nova_dpm/conf/dpm.py defines.
function dpm_option_names {
    python3 - "$REPO/nova_dpm/conf/dpm.py" <<'EOF'
import re
import sys

source = open(sys.argv[1]).read()
print('\n'.join(sorted(re.findall(r"cfg\.\w*Opt\(\s*'(\w+)'", source))))
EOF
}


echo "== syntax"
SCRIPTS=("$PLUGIN_DIR/plugin.sh" "$PLUGIN_DIR/settings"
         "$PLUGIN_DIR/override-defaults" "$STUBS" "$REPO/tools/check-devstack-plugin.sh")
for script in "${SCRIPTS[@]}"; do
    check "bash -n ${script#"$REPO"/}" bash -n "$script"
done
for sample in "$PLUGIN_DIR"/local.conf.*.sample "$REPO/tests/devstack/local.conf.all-options"; do
    check "bash -n localrc of ${sample#"$REPO"/}" bash -n \
        <(sed -n '/^\[\[local|localrc\]\]/,/^\[\[/{/^\[\[/d;p}' "$sample")
done
if command -v shellcheck > /dev/null; then
    # SC2034: settings defines variables that plugin.sh uses.
    check "shellcheck" shellcheck -s bash -e SC1090,SC1091,SC2034 "${SCRIPTS[@]}"
else
    skip "shellcheck (not installed)"
fi


echo "== every option from local.conf"
S=all-options
dry_run $S "$REPO/tests/devstack/local.conf.all-options" "" n-cpu,n-api stack post-config
expect_rc $S 0
expect_ini $S DEFAULT compute_driver dpm.DPMDriver
expect_ini $S DEFAULT state_path /opt/stack/data/nova
expect_ini $S database connection sqlite://
expect_ini $S dpm hmc 192.0.2.10,hmc2.lab.example
expect_ini $S dpm hmc_port 16794
expect_ini $S dpm hmc_username nova-compute-7
expect_ini $S dpm hmc_password "$PASSWORD"
expect_ini $S dpm hmc_verify_cert True
expect_ini $S dpm hmc_ca_file "$WORK/$S/hmc-ca.pem"
expect_ini $S dpm cpc_object_id 4e2f8a10-3c5d-11ef-9a7b-0242ac120002
expect_ini $S dpm max_processors 12
expect_ini $S dpm max_memory 98304
expect_ini $S dpm processor_type cp
expect_ini $S dpm physical_storage_adapter_mappings "5d1a3e4c-8f7b-11e6-9b3e-00106f0d81cb:0
6e2b4f5d-8f7b-11e6-9b3e-00106f0d81cb:1
7f3c5a6e-8f7b-11e6-9b3e-00106f0d81cb:3"
expect_ini $S dpm target_wwpn_ignore_list 500507680b215660,0x500507680B225660
expect_ini $S dpm physical_network_adapter_mappings "physnet1:8a4b6c7d-8f7b-11e6-9b3e-00106f0d81cb
provider-vlan:9b5c7d8e-8f7b-11e6-9b3e-00106f0d81cb:1"
expect_ini $S dpm connect_timeout 31
expect_ini $S dpm connect_retries 121
expect_ini $S dpm startup_connect_retries 4
expect_ini $S dpm read_timeout 301
expect_ini $S dpm read_retries 5
expect_ini $S dpm operation_timeout 3601
expect_ini $S dpm status_timeout 61
expect_ini $S dpm retry_http_statuses 500,503
expect_ini $S dpm retries_number 6
expect_ini $S dpm retry_after 11
expect_ini $S dpm max_retry_interval 31
expect_ini $S dpm hmc_session_pool_size 5
expect_ini $S dpm call_deadline 301
expect_ini $S dpm startup_deadline 121
expect_ini $S dpm image_cache_dir /srv/dpm-images
expect_ini $S dpm image_stall_timeout 32
expect_ini $S dpm image_download_retries 12
expect_ini $S dpm default_ins_file /boot/custom.ins
written=$(ini_options "$WORK/$S/nova.conf" dpm)
defined=$(dpm_option_names)
if [[ -n "$defined" && "$written" == "$defined" ]]; then
    pass "$S: writes every option nova_dpm/conf/dpm.py defines, no other"
else
    fail "$S: writes every option nova_dpm/conf/dpm.py defines, no other" \
        "missing: $(comm -13 <(echo "$written") <(echo "$defined") | paste -sd' ' -)" \
        "unknown: $(comm -23 <(echo "$written") <(echo "$defined") | paste -sd' ' -)"
fi
expect_not_in $S stdout "$PASSWORD" "the HMC password"
expect_not_in $S stderr "$PASSWORD" "the HMC password"
expect_not_in $S calls.log run_process

echo "== oslo.config reads the written nova.conf"
if "$CHECK_PYTHON" -c 'import oslo_config' 2> /dev/null; then
    if parsed=$("$CHECK_PYTHON" - "$REPO/nova_dpm/conf/dpm.py" "$WORK/$S/nova.conf" <<'EOF'
import importlib.util
import sys

from oslo_config import cfg

# Load the option module alone: nova_dpm.conf itself imports all of nova.
spec = importlib.util.spec_from_file_location('dpm_opts', sys.argv[1])
dpm = importlib.util.module_from_spec(spec)
spec.loader.exec_module(dpm)
conf = cfg.ConfigOpts()
conf.register_opts([cfg.StrOpt('compute_driver'), cfg.StrOpt('state_path')])
dpm.register_opts(conf)
conf(args=[], default_config_files=[sys.argv[2]])
for opt in dpm.ALL_OPTS:
    value = getattr(conf.dpm, opt.dest)
    if isinstance(value, list):
        value = ','.join(str(item) for item in value)
    print('%s=%s' % (opt.dest, value))
EOF
    ); then
        pass "$S: oslo.config accepts every [dpm] value"
        for pair in "hmc=192.0.2.10,hmc2.lab.example" "hmc_port=16794" \
                "hmc_verify_cert=True" "max_memory=98304" \
                "physical_storage_adapter_mappings=5d1a3e4c-8f7b-11e6-9b3e-00106f0d81cb:0,6e2b4f5d-8f7b-11e6-9b3e-00106f0d81cb:1,7f3c5a6e-8f7b-11e6-9b3e-00106f0d81cb:3" \
                "physical_network_adapter_mappings=physnet1:8a4b6c7d-8f7b-11e6-9b3e-00106f0d81cb,provider-vlan:9b5c7d8e-8f7b-11e6-9b3e-00106f0d81cb:1" \
                "retry_http_statuses=500,503" "hmc_password=$PASSWORD"; do
            if grep -qxF -- "$pair" <<< "$parsed"; then
                pass "$S: oslo.config reads ${pair%%=*}"
            else
                fail "$S: oslo.config reads ${pair%%=*}" \
                    "got: $(grep "^${pair%%=*}=" <<< "$parsed" | sed 's/password=.*/password=(hidden)/')"
            fi
        done
    else
        fail "$S: oslo.config accepts every [dpm] value" "$parsed"
    fi
else
    skip "oslo.config parse ($CHECK_PYTHON cannot import oslo_config; set NOVA_DPM_CHECK_PYTHON)"
fi


echo "== the real-HMC sample and the defaults"
S=hmc-sample
dry_run $S "$PLUGIN_DIR/local.conf.hmc.sample" "" n-cpu stack post-config
expect_rc $S 0
expect_ini $S DEFAULT compute_driver dpm.DPMDriver
expect_ini $S dpm hmc hmc1.example.com,hmc2.example.com
expect_ini $S dpm cpc_object_id fa1f2466-12df-311a-804c-4ed2cc1d6564
expect_ini $S dpm physical_storage_adapter_mappings "5d1a3e4c-8f7b-11e6-9b3e-00106f0d81cb:0
6e2b4f5d-8f7b-11e6-9b3e-00106f0d81cb:1"
expect_ini $S dpm physical_network_adapter_mappings public:8a4b6c7d-8f7b-11e6-9b3e-00106f0d81cb
expect_ini $S dpm hmc_port 6794
expect_ini $S dpm hmc_verify_cert True
expect_absent $S dpm hmc_ca_file
expect_ini $S dpm processor_type ifl
expect_ini $S dpm target_wwpn_ignore_list ""
expect_ini $S dpm connect_timeout 30
expect_ini $S dpm connect_retries 120
expect_ini $S dpm startup_connect_retries 3
expect_ini $S dpm read_timeout 300
expect_ini $S dpm read_retries 3
expect_ini $S dpm operation_timeout 3600
expect_ini $S dpm status_timeout 60
expect_ini $S dpm retry_http_statuses 408,413,429,500,502,503,504
expect_ini $S dpm retries_number 5
expect_ini $S dpm retry_after 10
expect_ini $S dpm max_retry_interval 30
expect_ini $S dpm hmc_session_pool_size 4
expect_ini $S dpm call_deadline 300
expect_ini $S dpm startup_deadline 120
# shellcheck disable=SC2016  # literal $ on purpose
expect_ini $S dpm image_cache_dir '$state_path/dpm_image_cache'
expect_ini $S dpm image_stall_timeout 30
expect_ini $S dpm image_download_retries 10
expect_ini $S dpm default_ins_file /generic.ins

S=rerun
dry_run $S "$PLUGIN_DIR/local.conf.hmc.sample" "" n-cpu stack post-config
dry_run $S "$PLUGIN_DIR/local.conf.hmc.sample" \
    "DPM_PHYSICAL_STORAGE_ADAPTER_MAPPINGS=6e2b4f5d-8f7b-11e6-9b3e-00106f0d81cb:2" \
    n-cpu stack post-config
expect_ini $S dpm physical_storage_adapter_mappings 6e2b4f5d-8f7b-11e6-9b3e-00106f0d81cb:2
S=no-mappings
dry_run $S "$PLUGIN_DIR/local.conf.hmc.sample" "DPM_PHYSICAL_STORAGE_ADAPTER_MAPPINGS=" \
    n-cpu stack post-config
expect_rc $S 0
expect_absent $S dpm physical_storage_adapter_mappings
expect_in $S stderr "DPM_PHYSICAL_STORAGE_ADAPTER_MAPPINGS is empty"
S=no-network-mappings
dry_run $S "$PLUGIN_DIR/local.conf.hmc.sample" "DPM_PHYSICAL_NETWORK_ADAPTER_MAPPINGS=" \
    n-cpu stack post-config
expect_rc $S 0
expect_absent $S dpm physical_network_adapter_mappings
expect_in $S stderr "DPM_PHYSICAL_NETWORK_ADAPTER_MAPPINGS is empty"

S=not-a-compute-node
dry_run $S "$PLUGIN_DIR/local.conf.hmc.sample" "" n-api,n-cond stack post-config
expect_rc $S 0
expect_absent $S DEFAULT compute_driver


echo "== missing or bad local.conf variables"
declare -A REQUIRED=(
    [DPM_HMC]="DPM_HMC is required: set it in local.conf to the address of the HMC"
    [DPM_HMC_USERNAME]="DPM_HMC_USERNAME is required: set it in local.conf to the HMC user ID"
    [DPM_HMC_PASSWORD]="DPM_HMC_PASSWORD is required: set it in local.conf to the password"
    [DPM_CPC_OBJECT_ID]="DPM_CPC_OBJECT_ID is required: set it in local.conf to the object-id of the CPC"
    [DPM_MAX_PROCESSORS]="DPM_MAX_PROCESSORS is required: set it in local.conf"
    [DPM_MAX_MEMORY]="DPM_MAX_MEMORY is required: set it in local.conf"
)
for variable in "${!REQUIRED[@]}"; do
    S=missing-$variable
    dry_run "$S" "$PLUGIN_DIR/local.conf.hmc.sample" "unset $variable" n-cpu stack post-config
    expect_rc "$S" 1
    expect_in "$S" stderr "${REQUIRED[$variable]}"
    expect_absent "$S" DEFAULT compute_driver
done
declare -A BAD=(
    [DPM_PROCESSOR_TYPE=ziip]="DPM_PROCESSOR_TYPE must be ifl or cp, not 'ziip'"
    [DPM_MAX_MEMORY=256]="DPM_MAX_MEMORY must be a whole number of at least 512, not '256'"
    [DPM_MAX_PROCESSORS=two]="DPM_MAX_PROCESSORS must be a whole number of at least 1, not 'two'"
    [DPM_CONNECT_RETRIES=-1]="DPM_CONNECT_RETRIES must be a whole number of at least 0, not '-1'"
    [DPM_CPC_OBJECT_ID=CPC1]="DPM_CPC_OBJECT_ID 'CPC1' is not an HMC object-id"
    [DPM_PHYSICAL_STORAGE_ADAPTER_MAPPINGS=5d1a3e4c-8f7b-11e6-9b3e-00106f0d81cb]="DPM_PHYSICAL_STORAGE_ADAPTER_MAPPINGS: '5d1a3e4c-8f7b-11e6-9b3e-00106f0d81cb' is not <adapter-object-id>:<port>"
    [DPM_PHYSICAL_NETWORK_ADAPTER_MAPPINGS=8a4b6c7d-8f7b-11e6-9b3e-00106f0d81cb:0]="DPM_PHYSICAL_NETWORK_ADAPTER_MAPPINGS: '8a4b6c7d-8f7b-11e6-9b3e-00106f0d81cb:0' is not <physical-network>:<adapter-object-id>[:<port>]"
    [DPM_TARGET_WWPN_IGNORE_LIST=50050768]="DPM_TARGET_WWPN_IGNORE_LIST: '50050768' is not a WWPN"
    [DPM_RETRY_HTTP_STATUSES=503,teapot]="DPM_RETRY_HTTP_STATUSES: 'teapot' is not an HTTP status"
    [DPM_HMC_CA_FILE=/nonexistent/ca.pem]="DPM_HMC_CA_FILE '/nonexistent/ca.pem' is not a readable file"
)
for assignment in "${!BAD[@]}"; do
    S=bad-${assignment%%=*}
    dry_run "$S" "$PLUGIN_DIR/local.conf.hmc.sample" "$assignment" n-cpu stack post-config
    expect_rc "$S" 1
    expect_in "$S" stderr "${BAD[$assignment]}"
done


echo "== simulator mode"
SIM_CA=$WORK/sim-ca.pem
touch "$SIM_CA"
cat > "$WORK/simulator.json" <<EOF
{"hosts": ["127.0.0.1"], "port": 16794, "ca_file": "$SIM_CA",
 "cpc_object_id": "0b6b8e6a-1b2c-4d3e-8f90-123456789abc",
 "control_url": "http://127.0.0.1:16795", "userid": "sim-user"}
EOF
S=simulator
FAKE_SIMULATOR_JSON=$WORK/simulator.json dry_run $S "$PLUGIN_DIR/local.conf.simulator.sample" \
    "DPM_HMC_SIM_START_TIMEOUT=5" n-cpu,n-api stack post-config
expect_rc $S 0
expect_in $S calls.log "enable_service n-dpm-hmc-sim"
expect_in $S calls.log "run_process n-dpm-hmc-sim /usr/local/bin/nova-dpm-hmc-simulator --listen 127.0.0.1 --port 6794 --state-dir $WORK/$S/data/nova-dpm-hmc-sim --userid devstack --password-file $WORK/$S/data/nova-dpm-hmc-sim/hmc-password --control-port 6795 --job-duration 2"
expect_ini $S DEFAULT compute_driver dpm.DPMDriver
expect_ini $S dpm hmc 127.0.0.1
expect_ini $S dpm hmc_port 16794
expect_ini $S dpm hmc_ca_file "$SIM_CA"
expect_ini $S dpm hmc_verify_cert True
expect_ini $S dpm cpc_object_id 0b6b8e6a-1b2c-4d3e-8f90-123456789abc
expect_ini $S dpm hmc_username sim-user
expect_ini $S dpm max_processors 4
expect_ini $S dpm max_memory 16384
expect_ini $S dpm physical_network_adapter_mappings public:3931a0f0-5e16-11ef-9c1a-00106f0d0101
sim_password=$(head -n 1 "$WORK/$S/data/nova-dpm-hmc-sim/hmc-password" 2> /dev/null)
if [[ ${#sim_password} -ge 16 ]]; then
    pass "$S: a generated password of ${#sim_password} characters"
else
    fail "$S: a generated password of at least 16 characters" "got ${#sim_password}"
fi
expect_ini $S dpm hmc_password "$sim_password"
mode=$(stat -c %a "$WORK/$S/data/nova-dpm-hmc-sim/hmc-password" 2> /dev/null)
check "$S: the password file is mode 600" test "$mode" = 600
if [[ -n "$sim_password" ]]; then
    expect_not_in $S stdout "$sim_password" "the generated password"
    expect_not_in $S stderr "$sim_password" "the generated password"
fi

S=simulator-password-and-inventory
FAKE_SIMULATOR_JSON=$WORK/simulator.json dry_run $S "$PLUGIN_DIR/local.conf.simulator.sample" \
    "DPM_HMC_PASSWORD=$PASSWORD; DPM_HMC_SIM_INVENTORY=/etc/inv.yaml; DPM_HMC_SIM_JOB_DURATION=" \
    n-cpu stack post-config
expect_rc $S 0
expect_ini $S dpm hmc_password "$PASSWORD"
expect_in $S calls.log "--control-port 6795 --inventory /etc/inv.yaml"
expect_absent $S dpm physical_network_adapter_mappings
expect_in $S stderr "DPM_PHYSICAL_NETWORK_ADAPTER_MAPPINGS is empty"
expect_not_in $S calls.log "--job-duration"
S=simulator-z17
FAKE_SIMULATOR_JSON=$WORK/simulator.json dry_run $S "$PLUGIN_DIR/local.conf.simulator.sample" \
    "DPM_HMC_SIM_INVENTORY=z17; DPM_HMC_SIM_PHYSICAL_NETWORK=physnet-sim" \
    n-cpu stack post-config
expect_rc $S 0
expect_ini $S dpm physical_network_adapter_mappings physnet-sim:9175a0f0-5e16-11ef-9c1a-00106f0d0101
expect_not_in $S stderr "$PASSWORD" "the HMC password"

S=simulator-silent
dry_run $S "$PLUGIN_DIR/local.conf.simulator.sample" "DPM_HMC_SIM_START_TIMEOUT=1" n-cpu stack post-config
expect_rc $S 1
expect_in $S stderr "The HMC simulator (n-dpm-hmc-sim) did not write $WORK/$S/data/nova-dpm-hmc-sim/simulator.json within 1 s"
expect_absent $S DEFAULT compute_driver

S=simulator-stale-json
mkdir -p "$WORK/$S/data/nova-dpm-hmc-sim"
cp "$WORK/simulator.json" "$WORK/$S/data/nova-dpm-hmc-sim/simulator.json"
dry_run $S "$PLUGIN_DIR/local.conf.simulator.sample" "DPM_HMC_SIM_START_TIMEOUT=1" n-cpu stack post-config
expect_rc $S 1
expect_in $S stderr "did not write"

S=simulator-old-json
echo '{"hosts": ["127.0.0.1"], "port": 16794}' > "$WORK/old-simulator.json"
FAKE_SIMULATOR_JSON=$WORK/old-simulator.json dry_run $S "$PLUGIN_DIR/local.conf.simulator.sample" \
    "DPM_HMC_SIM_START_TIMEOUT=5" n-cpu stack post-config
expect_rc $S 1
expect_in $S stderr "simulator.json has no ca_file, cpc_object_id, userid: is nova-dpm-hmc-simulator the version"


echo "== neutron-server: the dpm ML2 mechanism driver"
S=neutron
mkdir -p "$WORK/$S"
printf '[ml2]\nmechanism_drivers = openvswitch\n' > "$WORK/$S/ml2_conf.ini"
ML2=$WORK/$S/ml2_conf.ini
dry_run $S "$REPO/tests/devstack/local.conf.all-options" "Q_PLUGIN_CONF_FILE=$ML2" \
    n-cpu,q-svc stack post-config
expect_rc $S 0
expect_ini $S ml2 mechanism_drivers openvswitch,dpm "$ML2"
expect_ini $S ml2_dpm hosts dpm-cpc1,dpm-lab-* "$ML2"
expect_ini $S ml2_dpm physical_networks physnet1,provider-* "$ML2"
# A second run does not add dpm twice.
dry_run $S "$REPO/tests/devstack/local.conf.all-options" "Q_PLUGIN_CONF_FILE=$ML2" \
    n-cpu,q-svc stack post-config
expect_ini $S ml2 mechanism_drivers openvswitch,dpm "$ML2"

S=neutron-api-only
mkdir -p "$WORK/$S"
ML2=$WORK/$S/ml2_conf.ini
: > "$ML2"
dry_run $S "$PLUGIN_DIR/local.conf.hmc.sample" \
    "Q_PLUGIN_CONF_FILE=$ML2; Q_ML2_PLUGIN_MECHANISM_DRIVERS=ovn" \
    neutron-api stack post-config
expect_rc $S 0
expect_ini $S ml2 mechanism_drivers ovn,dpm "$ML2"
expect_ini $S ml2_dpm hosts "$(hostname)" "$ML2"
# shellcheck disable=SC2016  # a literal * on purpose
expect_ini $S ml2_dpm physical_networks '*' "$ML2"
expect_absent $S DEFAULT compute_driver
expect_not_in $S calls.log run_process

S=neutron-disabled
mkdir -p "$WORK/$S"
ML2=$WORK/$S/ml2_conf.ini
printf '[ml2]\nmechanism_drivers = openvswitch\n' > "$ML2"
dry_run $S "$PLUGIN_DIR/local.conf.hmc.sample" \
    "Q_PLUGIN_CONF_FILE=$ML2; DPM_ML2_MECHANISM_DRIVER=False" \
    n-cpu,q-svc stack post-config
expect_rc $S 0
expect_ini $S ml2 mechanism_drivers openvswitch "$ML2"
expect_ini $S ml2_dpm hosts "" "$ML2"

S=neutron-no-hosts
mkdir -p "$WORK/$S"
ML2=$WORK/$S/ml2_conf.ini
: > "$ML2"
dry_run $S "$PLUGIN_DIR/local.conf.hmc.sample" \
    "Q_PLUGIN_CONF_FILE=$ML2; DPM_ML2_HOSTS=' , '" q-svc stack post-config
expect_rc $S 1
expect_in $S stderr "DPM_ML2_HOSTS is empty: set it in local.conf"


echo "== other phases"
S=install
dry_run $S "$PLUGIN_DIR/local.conf.hmc.sample" "" n-cpu stack install
expect_rc $S 0
expect_in $S calls.log "pip_install $REPO"
expect_not_in $S calls.log setup_develop

S=unstack-simulator
dry_run $S "$PLUGIN_DIR/local.conf.simulator.sample" "" n-cpu unstack
expect_rc $S 0
expect_in $S calls.log "stop_process n-dpm-hmc-sim"

S=clean
mkdir -p "$WORK/$S/data/nova-dpm-hmc-sim"
touch "$WORK/$S/data/nova-dpm-hmc-sim/simulator.json"
dry_run $S "$PLUGIN_DIR/local.conf.simulator.sample" "" n-cpu clean
expect_rc $S 0
check "$S: removes the simulator state directory" test ! -e "$WORK/$S/data/nova-dpm-hmc-sim"

S=extra-status
mkdir -p "$WORK/$S/bin"
# shellcheck disable=SC2016  # literal $ on purpose
printf '#!/bin/bash\necho "$@" > %s\nexit ${FAKE_STATUS_RC:-0}\n' "$WORK/$S/status-args" \
    > "$WORK/$S/bin/nova-dpm-status"
chmod +x "$WORK/$S/bin/nova-dpm-status"
dry_run $S "$PLUGIN_DIR/local.conf.hmc.sample" "NOVA_BIN_DIR=$WORK/$S/bin" n-cpu stack extra
expect_rc $S 0
expect_in $S status-args "--config-file $WORK/$S/nova.conf --probe"
S=extra-status-fails
mkdir -p "$WORK/$S"
cp -r "$WORK/extra-status/bin" "$WORK/$S/"
FAKE_STATUS_RC=3 dry_run $S "$PLUGIN_DIR/local.conf.hmc.sample" "NOVA_BIN_DIR=$WORK/$S/bin" n-cpu stack extra
expect_rc $S 1
expect_in $S stderr "nova-dpm-status --probe failed"

S=test-config
dry_run $S "$PLUGIN_DIR/local.conf.simulator.sample" "" n-cpu,tempest stack test-config
expect_rc $S 0
for flag in console_output interface_attach; do
    expect_ini $S compute-feature-enabled $flag True "$WORK/$S/tempest.conf"
done
for flag in snapshot resize cold_migration live_migration pause suspend rescue \
        shelve change_password vnc_console serial_console; do
    expect_ini $S compute-feature-enabled $flag False "$WORK/$S/tempest.conf"
done
# The settings come from doc/tempest/tempest-dpm.conf, all of it.
expect_ini $S compute-feature-enabled hostname_fqdn_sanitization True "$WORK/$S/tempest.conf"
expect_ini $S validation run_validation False "$WORK/$S/tempest.conf"

echo "$PASSED passed, $FAILED failed, $SKIPPED skipped"
[[ $FAILED -eq 0 ]]
