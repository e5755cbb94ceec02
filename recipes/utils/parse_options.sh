# Kaldi-style option parsing for recipe scripts; source it after declaring the defaults:
#
#   stage=0
#   stop_stage=100
#   nj=2
#   corpus_dir=
#   . "$(dirname "$0")/../utils/parse_options.sh"
#
# Then `run.sh --stage 3 --stop-stage 5 --nj 4 --corpus-dir /data/x` sets stage=3, stop_stage=5, nj=4 and
# corpus_dir=/data/x. Rules (Kaldi's):
#   - `--foo-bar VALUE` and `--foo-bar=VALUE` set the variable foo_bar, which the script must have declared
#     (a typo is an error, not a silently ignored option);
#   - a variable whose default is true or false only takes true or false;
#   - `--config FILE` sources FILE (lines like `nj=4`) before the options that follow it;
#   - `--help` / `-h` prints $help_message (if the script set it) and the options with their current values;
#   - parsing stops at the first argument that does not start with `--`, or after `--`; what is left stays in
#     "$@" for the script's positional arguments.

__po_usage() {
  if [ -n "${help_message:-}" ]; then printf '%s\n' "$help_message"; fi
  echo "Options (current values):"
  local __po_name
  for __po_name in ${__po_declared}; do
    printf '  --%-20s %s\n' "${__po_name//_/-}" "${!__po_name}"
  done
}

# The options: lower-case shell variables the script declared before sourcing us (not the environment's).
__po_declared=$(comm -23 <(compgen -v | grep '^[a-z][a-z0-9_]*$' | grep -vx help_message | LC_ALL=C sort) \
                         <(compgen -e | LC_ALL=C sort) | tr '\n' ' ')

while [ $# -gt 0 ]; do
  case "$1" in
    --help|-h)
      __po_usage
      exit 0 ;;
    --)
      shift
      break ;;
    --config|--config=*)
      if [ "$1" = "--config" ]; then
        [ $# -ge 2 ] || { echo "$0: option --config needs a file" >&2; exit 1; }
        __po_config=$2; shift 2
      else
        __po_config=${1#--config=}; shift
      fi
      [ -f "$__po_config" ] || { echo "$0: config file $__po_config not found" >&2; exit 1; }
      . "$__po_config" ;;
    --*=*)
      __po_name=${1%%=*}; __po_value=${1#*=}; shift
      __po_name=${__po_name#--}; __po_name=${__po_name//-/_}
      __po_set=1 ;;
    --*)
      __po_name=${1#--}; __po_name=${__po_name//-/_}
      [ $# -ge 2 ] || { echo "$0: option $1 needs a value" >&2; exit 1; }
      __po_value=$2; shift 2
      __po_set=1 ;;
    *)
      break ;;
  esac
  if [ "${__po_set:-0}" = 1 ]; then
    __po_set=0
    case " ${__po_declared} " in
      *" ${__po_name} "*) ;;
      *)
        echo "$0: unknown option --${__po_name//_/-} (see $0 --help)" >&2
        exit 1 ;;
    esac
    __po_old=${!__po_name}
    if { [ "$__po_old" = true ] || [ "$__po_old" = false ]; } && [ "$__po_value" != true ] && [ "$__po_value" != false ]; then
      echo "$0: option --${__po_name//_/-} takes true or false, not '$__po_value'" >&2
      exit 1
    fi
    printf -v "$__po_name" '%s' "$__po_value"
  fi
done
unset __po_name __po_value __po_old __po_set __po_config
true
