#!/bin/bash
#
# Stand-ins for the devstack functions devstack/plugin.sh and
# devstack/settings call, for a dry run without a devstack checkout.
#
# Same names and arguments as devstack's (functions-common, inc/ini-config,
# inc/python). The ini functions really edit the file (through ini_tool.py);
# the others append one line per call to $DRYRUN_LOG, so a check can assert
# what would have been installed, started or stopped.
#
# Inputs (environment):
#   DRYRUN_LOG           file that records the calls (required)
#   ENABLED_SERVICES     comma separated services, as in devstack
#   FAKE_SIMULATOR_JSON  if set, run_process of n-dpm-hmc-sim copies this file
#                        to <--state-dir>/simulator.json, as the simulator
#                        would write it once listening

_DEVSTACK_STUBS_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
_INI_TOOL="python3 -I -S $_DEVSTACK_STUBS_DIR/ini_tool.py"

function _record {
    echo "$*" >> "$DRYRUN_LOG"
}

# die LINENO "message": devstack prints "[ERROR] <file>:<line> message".
function die {
    local line=$1
    shift
    echo "[ERROR] ${BASH_SOURCE[1]}:$line $*" >&2
    exit 1
}

# warn LINENO "message": devstack uses only the second argument.
function warn {
    echo "[WARNING] ${BASH_SOURCE[1]}:$1 $2" >&2
}

function echo_summary {
    echo "$@"
}

# trueorfalse DEFAULT VARNAME: normalize a boolean variable.
function trueorfalse {
    local default=$1
    local testval=${!2:-}
    case "$testval" in
        1 | [yY] | [yY][eE][sS] | [tT] | [tT][rR][uU][eE] | [oO][nN])
            echo True ;;
        0 | [nN] | [nN][oO] | [fF] | [fF][aA][lL][sS][eE] | [oO][fF][fF])
            echo False ;;
        *) echo "$default" ;;
    esac
}

function is_service_enabled {
    local service
    for service in "$@"; do
        [[ ,${ENABLED_SERVICES}, =~ ,${service}, ]] && return 0
    done
    return 1
}

function enable_service {
    local service
    for service in "$@"; do
        if ! is_service_enabled "$service"; then
            ENABLED_SERVICES+=",$service"
        fi
    done
    _record "enable_service $*"
}

function disable_service {
    local service
    for service in "$@"; do
        ENABLED_SERVICES=$(echo ",$ENABLED_SERVICES," |
            sed -e "s/,$service,/,/g" -e 's/^,//' -e 's/,$//')
    done
}

function enable_plugin {
    _record "enable_plugin $*"
}

function get_python_exec_prefix {
    echo /usr/local/bin
}

function pip_install {
    _record "pip_install $*"
}

function setup_develop {
    _record "setup_develop $*"
}

# run_process SERVICE "COMMAND": devstack starts only enabled services.
function run_process {
    local service=$1
    local command=$2
    is_service_enabled "$service" || return 0
    _record "run_process $service $command"
    if [[ "$service" == "n-dpm-hmc-sim" && -n "$FAKE_SIMULATOR_JSON" ]]; then
        local state_dir
        state_dir=$(echo "$command" | sed -ne 's/.*--state-dir \([^ ]*\).*/\1/p')
        cp "$FAKE_SIMULATOR_JSON" "$state_dir/simulator.json"
    fi
}

function stop_process {
    is_service_enabled "$1" || return 0
    _record "stop_process $1"
}

# The ini functions queue their edits and ini_tool.py applies them in one
# go (a python3 start per call would make the check slow): before any read,
# and when the dry run ends, by "exit" from die included.
_INI_QUEUE=${DRYRUN_LOG}.ini-edits

function _queue_ini_edit {
    [[ "$2" == "-sudo" ]] && set -- "$1" "${@:3}"
    printf '%s\0' "$#" "$@" >> "$_INI_QUEUE"
}

function ini_flush {
    if [[ -s "$_INI_QUEUE" ]]; then
        $_INI_TOOL batch "$_INI_QUEUE" && : > "$_INI_QUEUE"
    fi
}
trap ini_flush EXIT

function iniset {
    _queue_ini_edit set "$@"
}

function iniset_multiline {
    _queue_ini_edit set-multiline "$@"
}

function iniadd {
    _queue_ini_edit add "$@"
}

function inidelete {
    _queue_ini_edit delete "$@"
}

function iniget {
    ini_flush
    $_INI_TOOL get "$@"
}

function iniget_multiline {
    ini_flush
    $_INI_TOOL get-all "$@" | paste -sd' ' -
}
