#!/bin/bash
#
# plugin.sh - devstack plugin for nova-dpm, the IBM Z DPM compute driver.
#
# Called by stack.sh, unstack.sh and clean.sh as
#   plugin.sh stack install       install nova-dpm into nova's environment
#   plugin.sh stack post-config   (simulator mode: start the HMC simulator)
#                                 write compute_driver and [dpm] to nova.conf;
#                                 where neutron-server runs: the dpm ML2
#                                 mechanism driver and [ml2_dpm]
#   plugin.sh stack extra         check the HMC with nova-dpm-status --probe
#   plugin.sh stack test-config   set tempest's compute feature flags
#   plugin.sh unstack             stop the HMC simulator
#   plugin.sh clean               remove the simulator's state directory
# Variables and defaults: devstack/settings; documentation: devstack/README.rst.

# The HMC password goes through this file: never trace it into stack.sh's log.
_NOVA_DPM_XTRACE=$(set +o | grep xtrace)
set +o xtrace

NOVA_DPM_SIM_SERVICE=n-dpm-hmc-sim

# The regular expressions nova_dpm/conf/dpm.py validates with.
_DPM_OBJECT_ID_RE='^[0-9a-fA-F]{8}(-?[0-9a-fA-F]{4}){3}-?[0-9a-fA-F]{12}$'
_DPM_ADAPTER_PORT_RE='^[0-9a-fA-F]{8}(-?[0-9a-fA-F]{4}){3}-?[0-9a-fA-F]{12}:[0-9]+$'
_DPM_WWPN_RE='^(0x)?[0-9a-fA-F]{16}$'
_DPM_NETWORK_MAPPING_RE='^[^:[:space:]]+:[0-9a-fA-F]{8}(-?[0-9a-fA-F]{4}){3}-?[0-9a-fA-F]{12}(:[0-9])?$'


# Helpers
# -------

function _nova_dpm_bin_dir {
    echo "${NOVA_BIN_DIR:-$(get_python_exec_prefix)}"
}

# The config file nova-compute reads: devstack copies nova.conf into
# nova-cpu.conf when it starts nova-compute.
function _nova_dpm_compute_conf {
    if [[ -n "$NOVA_CPU_CONF" && -f "$NOVA_CPU_CONF" ]]; then
        echo "$NOVA_CPU_CONF"
    else
        echo "$NOVA_CONF"
    fi
}

# Split a comma separated value into one word per line, blanks dropped.
function _nova_dpm_split {
    local item
    local -a items
    IFS=',' read -r -a items <<< "$1"
    for item in "${items[@]}"; do
        item="${item//[[:space:]]/}"
        [[ -n "$item" ]] && echo "$item"
    done
    return 0
}

# Join the words of a comma separated value again, without blanks.
function _nova_dpm_normalize_list {
    local joined
    joined=$(_nova_dpm_split "$1" | paste -sd, -)
    echo "$joined"
}

# _nova_dpm_require NAME WHAT: die unless local.conf set NAME.
function _nova_dpm_require {
    local name=$1
    local what="${*:2}"
    if [[ -z "${!name}" ]]; then
        die $LINENO "$name is required: set it in local.conf to $what"
    fi
}

# _nova_dpm_require_int NAME MIN: die unless NAME is an integer >= MIN.
function _nova_dpm_require_int {
    local name=$1
    local min=$2
    local value=${!name}
    if ! [[ "$value" =~ ^[0-9]+$ ]] || (( value < min )); then
        die $LINENO "$name must be a whole number of at least $min, not '$value': fix it in local.conf"
    fi
}

# _nova_dpm_require_items NAME REGEX FORMAT: every comma separated item of
# NAME must match REGEX.
function _nova_dpm_require_items {
    local name=$1
    local regex=$2
    local format=$3
    local item
    for item in $(_nova_dpm_split "${!name}"); do
        if ! [[ "$item" =~ $regex ]]; then
            die $LINENO "$name: '$item' is not $format: fix it in local.conf"
        fi
    done
}


# Installation
# ------------

# install_nova_dpm - install nova-dpm into the Python environment of nova.
function install_nova_dpm {
    # Not setup_develop: an editable install would leave the loading shim
    # nova/virt/dpm/ outside nova's own nova/virt/ directory, and
    # nova-compute could not load compute_driver = dpm.DPMDriver.
    pip_install "$NOVA_DPM_DIR"
}


# HMC simulator
# -------------

# _nova_dpm_read_simulator_json - print KEY=VALUE lines of the values
# nova.conf needs from simulator.json (lists comma joined); fail naming the
# keys that are missing.
function _nova_dpm_read_simulator_json {
    python3 - "$DPM_HMC_SIM_STATE_DIR/simulator.json" <<'PYEOF'
import json
import sys

KEYS = ('hosts', 'port', 'ca_file', 'cpc_object_id', 'userid')
# Optional: a simulator without notifications has none.
OPTIONAL = ('notification_port',)
with open(sys.argv[1]) as f:
    info = json.load(f)
missing = [key for key in KEYS if info.get(key) in (None, '', [])]
if missing:
    sys.exit("%s has no %s: is nova-dpm-hmc-simulator the version of this "
             "nova-dpm checkout?" % (sys.argv[1], ', '.join(missing)))
for key in KEYS + tuple(k for k in OPTIONAL if info.get(k) is not None):
    value = info[key]
    if isinstance(value, list):
        value = ','.join(map(str, value))
    print('%s=%s' % (key, value))
PYEOF
}

# _nova_dpm_sim_json_complete: simulator.json exists and parses.
function _nova_dpm_sim_json_complete {
    local json=$DPM_HMC_SIM_STATE_DIR/simulator.json
    [[ -s "$json" ]] && python3 -c 'import json, sys; json.load(open(sys.argv[1]))' \
        "$json" 2>/dev/null
}

# start_nova_dpm_hmc_simulator - run the simulator as a devstack service and
# wait until it has written simulator.json.
function start_nova_dpm_hmc_simulator {
    local state_dir=$DPM_HMC_SIM_STATE_DIR
    local password_file=$state_dir/hmc-password
    local password=$DPM_HMC_PASSWORD

    mkdir -p "$state_dir"
    chmod 0700 "$state_dir"
    # A simulator.json left by an earlier run would describe a dead process.
    rm -f "$state_dir/simulator.json"
    if [[ -z "$password" ]]; then
        password=$(python3 -c 'import secrets; print(secrets.token_urlsafe(24))')
    fi
    (umask 077 && printf '%s\n' "$password" > "$password_file")

    local cmd
    cmd="$(_nova_dpm_bin_dir)/nova-dpm-hmc-simulator"
    cmd+=" --listen $DPM_HMC_SIM_LISTEN --port $DPM_HMC_SIM_PORT"
    cmd+=" --state-dir $state_dir --userid $DPM_HMC_SIM_USERNAME"
    cmd+=" --password-file $password_file"
    cmd+=" --control-port $DPM_HMC_SIM_CONTROL_PORT"
    if [[ -n "$DPM_HMC_SIM_JOB_DURATION" ]]; then
        cmd+=" --job-duration $DPM_HMC_SIM_JOB_DURATION"
    fi
    if [[ -n "$DPM_HMC_SIM_INVENTORY" ]]; then
        cmd+=" --inventory $DPM_HMC_SIM_INVENTORY"
    fi
    run_process $NOVA_DPM_SIM_SERVICE "$cmd"

    local waited=0
    until _nova_dpm_sim_json_complete; do
        if (( waited >= DPM_HMC_SIM_START_TIMEOUT )); then
            die $LINENO "The HMC simulator ($NOVA_DPM_SIM_SERVICE) did not write $state_dir/simulator.json within $DPM_HMC_SIM_START_TIMEOUT s: see its log (journalctl -u devstack@$NOVA_DPM_SIM_SERVICE) or raise DPM_HMC_SIM_START_TIMEOUT in local.conf"
        fi
        sleep 1
        waited=$((waited + 1))
    done
    _nova_dpm_use_simulator "$password_file"
}

# _nova_dpm_use_simulator PASSWORD_FILE - take the HMC settings from the
# running simulator, with certificate verification against its CA.
function _nova_dpm_use_simulator {
    local password_file=$1
    local lines key value
    if ! lines=$(_nova_dpm_read_simulator_json 2>&1); then
        die $LINENO "$lines"
    fi
    local -A sim
    while IFS='=' read -r key value; do
        sim[$key]=$value
    done <<< "$lines"
    if [[ -n "$DPM_CPC_OBJECT_ID" && "$DPM_CPC_OBJECT_ID" != "${sim[cpc_object_id]}" ]]; then
        warn $LINENO "DPM_CPC_OBJECT_ID=$DPM_CPC_OBJECT_ID is ignored in simulator mode: using the simulator's CPC ${sim[cpc_object_id]}"
    fi
    DPM_HMC=${sim[hosts]}
    DPM_HMC_PORT=${sim[port]}
    DPM_HMC_NOTIFICATION_PORT=${sim[notification_port]:-$DPM_HMC_NOTIFICATION_PORT}
    DPM_HMC_CA_FILE=${sim[ca_file]}
    DPM_HMC_VERIFY_CERT=True
    DPM_CPC_OBJECT_ID=${sim[cpc_object_id]}
    DPM_HMC_USERNAME=${sim[userid]}
    DPM_HMC_PASSWORD=$(head -n 1 "$password_file")
    if [[ -z "$DPM_PHYSICAL_NETWORK_ADAPTER_MAPPINGS" ]]; then
        local adapter
        adapter=$(_nova_dpm_sim_network_adapter)
        if [[ -n "$adapter" ]]; then
            DPM_PHYSICAL_NETWORK_ADAPTER_MAPPINGS=$DPM_HMC_SIM_PHYSICAL_NETWORK:$adapter
        fi
    fi
}

# _nova_dpm_sim_network_adapter - object-id of the network adapter of the
# simulator's built-in inventory (fixed ids of nova_dpm/simulator/
# inventory.py, compared by tests/unit/devstack/test_simulator_adapters.py);
# nothing for an inventory file.
function _nova_dpm_sim_network_adapter {
    case "${DPM_HMC_SIM_INVENTORY:-z16}" in
        z16) echo 3931a0f0-5e16-11ef-9c1a-00106f0d0101 ;;
        z17) echo 9175a0f0-5e16-11ef-9c1a-00106f0d0101 ;;
        z13) echo 2964a0f0-5e16-11ef-9c1a-00106f0d0101 ;;
    esac
    return 0
}

# stop_nova_dpm_hmc_simulator - stop the simulator service.
function stop_nova_dpm_hmc_simulator {
    stop_process $NOVA_DPM_SIM_SERVICE
}

# cleanup_nova_dpm - remove what the simulator left on disk.
function cleanup_nova_dpm {
    if [[ -n "$DPM_HMC_SIM_STATE_DIR" ]]; then
        rm -rf "$DPM_HMC_SIM_STATE_DIR"
    fi
}


# Configuration
# -------------

# validate_nova_dpm_settings - die with a message naming the local.conf
# variable when one is missing or malformed.
function validate_nova_dpm_settings {
    _nova_dpm_require DPM_HMC "the address of the HMC (comma separated: primary first, then alternate HMCs)"
    _nova_dpm_require DPM_HMC_USERNAME "the HMC user ID nova-compute logs on as"
    _nova_dpm_require DPM_HMC_PASSWORD "the password of DPM_HMC_USERNAME"
    _nova_dpm_require DPM_CPC_OBJECT_ID "the object-id of the CPC (in DPM mode) whose partitions this nova-compute manages (HMC: CPC details, or 'zhmc cpc show')"
    _nova_dpm_require DPM_MAX_PROCESSORS "the number of processors this nova-compute may give to its partitions"
    _nova_dpm_require DPM_MAX_MEMORY "the memory in MiB this nova-compute may give to its partitions"

    if ! [[ "$DPM_CPC_OBJECT_ID" =~ $_DPM_OBJECT_ID_RE ]]; then
        die $LINENO "DPM_CPC_OBJECT_ID '$DPM_CPC_OBJECT_ID' is not an HMC object-id (like fa1f2466-12df-311a-804c-4ed2cc1d6564): fix it in local.conf"
    fi
    if [[ "$DPM_PROCESSOR_TYPE" != "ifl" && "$DPM_PROCESSOR_TYPE" != "cp" ]]; then
        die $LINENO "DPM_PROCESSOR_TYPE must be ifl or cp, not '$DPM_PROCESSOR_TYPE': fix it in local.conf"
    fi
    _nova_dpm_require_int DPM_HMC_PORT 1
    _nova_dpm_require_int DPM_HMC_NOTIFICATION_PORT 1
    _nova_dpm_require_int DPM_MAX_PROCESSORS 1
    _nova_dpm_require_int DPM_MAX_MEMORY 512
    _nova_dpm_require_int DPM_CONNECT_TIMEOUT 1
    _nova_dpm_require_int DPM_CONNECT_RETRIES 0
    _nova_dpm_require_int DPM_STARTUP_CONNECT_RETRIES 0
    _nova_dpm_require_int DPM_READ_TIMEOUT 1
    _nova_dpm_require_int DPM_READ_RETRIES 0
    _nova_dpm_require_int DPM_OPERATION_TIMEOUT 1
    _nova_dpm_require_int DPM_STATUS_TIMEOUT 1
    _nova_dpm_require_int DPM_RETRIES_NUMBER 0
    _nova_dpm_require_int DPM_RETRY_AFTER 0
    _nova_dpm_require_int DPM_MAX_RETRY_INTERVAL 1
    _nova_dpm_require_int DPM_HMC_SESSION_POOL_SIZE 1
    _nova_dpm_require_int DPM_CALL_DEADLINE 1
    _nova_dpm_require_int DPM_STARTUP_DEADLINE 1
    _nova_dpm_require_int DPM_IMAGE_STALL_TIMEOUT 1
    _nova_dpm_require_int DPM_IMAGE_DOWNLOAD_RETRIES 0
    _nova_dpm_require_items DPM_PHYSICAL_STORAGE_ADAPTER_MAPPINGS \
        "$_DPM_ADAPTER_PORT_RE" "<adapter-object-id>:<port>"
    _nova_dpm_require_items DPM_PHYSICAL_NETWORK_ADAPTER_MAPPINGS \
        "$_DPM_NETWORK_MAPPING_RE" "<physical-network>:<adapter-object-id>[:<port>]"
    _nova_dpm_require_items DPM_TARGET_WWPN_IGNORE_LIST "$_DPM_WWPN_RE" \
        "a WWPN (16 hex digits)"
    _nova_dpm_require_items DPM_RETRY_HTTP_STATUSES '^[1-5][0-9][0-9]$' \
        "an HTTP status (100-599)"
    if [[ -n "$DPM_HMC_CA_FILE" && ! -r "$DPM_HMC_CA_FILE" ]]; then
        die $LINENO "DPM_HMC_CA_FILE '$DPM_HMC_CA_FILE' is not a readable file: copy the HMC's CA certificate (PEM) there or unset it to use the system CA store"
    fi
    if [[ -z "$DPM_PHYSICAL_STORAGE_ADAPTER_MAPPINGS" ]]; then
        warn $LINENO "DPM_PHYSICAL_STORAGE_ADAPTER_MAPPINGS is empty: instances can only boot from ISO images, not from FCP volumes"
    fi
    if [[ -z "$DPM_PHYSICAL_NETWORK_ADAPTER_MAPPINGS" ]]; then
        warn $LINENO "DPM_PHYSICAL_NETWORK_ADAPTER_MAPPINGS is empty: ports bound by Neutron's dpm mechanism driver cannot be placed on this host"
    fi
    if [[ "$DPM_HMC_VERIFY_CERT" != "True" ]]; then
        warn $LINENO "DPM_HMC_VERIFY_CERT=False: the HMC certificate is not verified; use this in a lab only"
    fi
}

# _nova_dpm_set_multi CONF OPTION VALUE - a multi-valued [dpm] option, one
# line per comma separated item of VALUE (none: the option is removed).
# iniset_multiline replaces the lines of an earlier run instead of
# appending to them like iniadd.
function _nova_dpm_set_multi {
    local conf=$1 option=$2
    local -a items
    mapfile -t items < <(_nova_dpm_split "$3")
    if (( ${#items[@]} > 0 )); then
        iniset_multiline "$conf" dpm "$option" "${items[@]}"
    else
        inidelete "$conf" dpm "$option"
    fi
}

# configure_nova_dpm - write compute_driver and every [dpm] option.
function configure_nova_dpm {
    local conf=$NOVA_CONF

    iniset "$conf" DEFAULT compute_driver dpm.DPMDriver

    iniset "$conf" dpm hmc "$(_nova_dpm_normalize_list "$DPM_HMC")"
    iniset "$conf" dpm hmc_port "$DPM_HMC_PORT"
    iniset "$conf" dpm hmc_username "$DPM_HMC_USERNAME"
    iniset "$conf" dpm hmc_password "$DPM_HMC_PASSWORD"
    iniset "$conf" dpm hmc_verify_cert "$DPM_HMC_VERIFY_CERT"
    iniset "$conf" dpm hmc_notifications "$DPM_HMC_NOTIFICATIONS"
    iniset "$conf" dpm hmc_notification_port "$DPM_HMC_NOTIFICATION_PORT"
    if [[ -n "$DPM_HMC_CA_FILE" ]]; then
        iniset "$conf" dpm hmc_ca_file "$DPM_HMC_CA_FILE"
    else
        inidelete "$conf" dpm hmc_ca_file
    fi

    iniset "$conf" dpm cpc_object_id "$DPM_CPC_OBJECT_ID"
    iniset "$conf" dpm max_processors "$DPM_MAX_PROCESSORS"
    iniset "$conf" dpm max_memory "$DPM_MAX_MEMORY"
    iniset "$conf" dpm processor_type "$DPM_PROCESSOR_TYPE"
    _nova_dpm_set_multi "$conf" physical_storage_adapter_mappings \
        "$DPM_PHYSICAL_STORAGE_ADAPTER_MAPPINGS"
    _nova_dpm_set_multi "$conf" physical_network_adapter_mappings \
        "$DPM_PHYSICAL_NETWORK_ADAPTER_MAPPINGS"
    iniset "$conf" dpm target_wwpn_ignore_list \
        "$(_nova_dpm_normalize_list "$DPM_TARGET_WWPN_IGNORE_LIST")"

    iniset "$conf" dpm connect_timeout "$DPM_CONNECT_TIMEOUT"
    iniset "$conf" dpm connect_retries "$DPM_CONNECT_RETRIES"
    iniset "$conf" dpm startup_connect_retries "$DPM_STARTUP_CONNECT_RETRIES"
    iniset "$conf" dpm read_timeout "$DPM_READ_TIMEOUT"
    iniset "$conf" dpm read_retries "$DPM_READ_RETRIES"
    iniset "$conf" dpm operation_timeout "$DPM_OPERATION_TIMEOUT"
    iniset "$conf" dpm status_timeout "$DPM_STATUS_TIMEOUT"
    iniset "$conf" dpm retry_http_statuses \
        "$(_nova_dpm_normalize_list "$DPM_RETRY_HTTP_STATUSES")"
    iniset "$conf" dpm retries_number "$DPM_RETRIES_NUMBER"
    iniset "$conf" dpm retry_after "$DPM_RETRY_AFTER"
    iniset "$conf" dpm max_retry_interval "$DPM_MAX_RETRY_INTERVAL"
    iniset "$conf" dpm hmc_session_pool_size "$DPM_HMC_SESSION_POOL_SIZE"
    iniset "$conf" dpm call_deadline "$DPM_CALL_DEADLINE"
    iniset "$conf" dpm startup_deadline "$DPM_STARTUP_DEADLINE"

    iniset "$conf" dpm image_cache_dir "$DPM_IMAGE_CACHE_DIR"
    iniset "$conf" dpm image_stall_timeout "$DPM_IMAGE_STALL_TIMEOUT"
    iniset "$conf" dpm image_download_retries "$DPM_IMAGE_DOWNLOAD_RETRIES"
    iniset "$conf" dpm default_ins_file "$DPM_DEFAULT_INS_FILE"
}

# _nova_dpm_ml2_conf - the ML2 plugin's config file of neutron-server
# (devstack keeps its path relative to /).
function _nova_dpm_ml2_conf {
    local file=${Q_PLUGIN_CONF_FILE:-etc/neutron/plugins/ml2/ml2_conf.ini}
    [[ "$file" == /* ]] || file=/$file
    echo "$file"
}

# configure_neutron_for_nova_dpm - load the dpm mechanism driver (after the
# ones devstack configured) and tell it the DPM hosts and physical networks.
function configure_neutron_for_nova_dpm {
    local conf drivers
    conf=$(_nova_dpm_ml2_conf)
    if [[ -z "$(_nova_dpm_normalize_list "$DPM_ML2_HOSTS")" ]]; then
        die $LINENO "DPM_ML2_HOSTS is empty: set it in local.conf to the host names (or patterns such as dpm-*) of the DPM compute hosts"
    fi
    drivers=$(iniget "$conf" ml2 mechanism_drivers || true)
    drivers=$(_nova_dpm_normalize_list "${drivers:-${Q_ML2_PLUGIN_MECHANISM_DRIVERS:-}}")
    if [[ ",$drivers," != *,dpm,* ]]; then
        drivers=${drivers:+$drivers,}dpm
    fi
    iniset "$conf" ml2 mechanism_drivers "$drivers"
    iniset "$conf" ml2_dpm hosts "$(_nova_dpm_normalize_list "$DPM_ML2_HOSTS")"
    iniset "$conf" ml2_dpm physical_networks \
        "$(_nova_dpm_normalize_list "$DPM_ML2_PHYSICAL_NETWORKS")"
}

# _nova_dpm_neutron_server - neutron-server runs here (and wants the driver).
function _nova_dpm_neutron_server {
    [[ "$DPM_ML2_MECHANISM_DRIVER" == "True" ]] && is_service_enabled q-svc neutron-api
}

# check_nova_dpm_hmc - prove nova-compute's configuration reaches the HMC.
function check_nova_dpm_hmc {
    local conf
    conf=$(_nova_dpm_compute_conf)
    if ! "$(_nova_dpm_bin_dir)/nova-dpm-status" --config-file "$conf" --probe; then
        die $LINENO "nova-dpm-status --probe failed with $conf: the HMC settings above are wrong or the HMC is unreachable; set DPM_STATUS_CHECK=False in local.conf to stack anyway"
    fi
}

# configure_tempest_for_nova_dpm - tempest's settings for what the driver
# supports, from doc/tempest/tempest-dpm.conf (the one list, also used by
# tox -e tempest; doc/tempest/README.rst explains each).
function configure_tempest_for_nova_dpm {
    local conf=$TEMPEST_CONFIG
    local section option value
    while read -r section option value; do
        iniset "$conf" "$section" "$option" "$value"
    done < <(python3 - "$NOVA_DPM_DIR/doc/tempest/tempest-dpm.conf" <<'PYEOF'
import configparser, sys
parser = configparser.RawConfigParser(default_section='no such section')
parser.optionxform = str
with open(sys.argv[1]) as f:
    parser.read_file(f)
for section in parser.sections():
    for option, value in parser.items(section):
        print(section, option, value)
PYEOF
    )
}


# Dispatch
# --------

if [[ "$1" == "stack" ]]; then
    case "$2" in
        install)
            if is_service_enabled n-cpu || [[ "$DPM_HMC_SIMULATOR" == "True" ]] ||
                    _nova_dpm_neutron_server; then
                echo_summary "Installing nova-dpm from $NOVA_DPM_DIR"
                install_nova_dpm
            fi
            ;;
        post-config)
            if [[ "$DPM_HMC_SIMULATOR" == "True" ]]; then
                echo_summary "Starting the nova-dpm HMC simulator"
                start_nova_dpm_hmc_simulator
            fi
            if is_service_enabled n-cpu; then
                echo_summary "Configuring nova-compute for DPM"
                validate_nova_dpm_settings
                configure_nova_dpm
            fi
            if _nova_dpm_neutron_server; then
                echo_summary "Configuring Neutron's dpm ML2 mechanism driver"
                configure_neutron_for_nova_dpm
            fi
            ;;
        extra)
            if is_service_enabled n-cpu && [[ "$DPM_STATUS_CHECK" == "True" ]]; then
                echo_summary "Checking the HMC with nova-dpm-status"
                check_nova_dpm_hmc
            fi
            ;;
        test-config)
            if is_service_enabled tempest; then
                echo_summary "Configuring tempest for nova-dpm"
                configure_tempest_for_nova_dpm
            fi
            ;;
    esac
fi

if [[ "$1" == "unstack" && "$DPM_HMC_SIMULATOR" == "True" ]]; then
    stop_nova_dpm_hmc_simulator
fi

if [[ "$1" == "clean" ]]; then
    cleanup_nova_dpm
fi

$_NOVA_DPM_XTRACE
