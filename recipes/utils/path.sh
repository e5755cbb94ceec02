# Shared setup for every recipe; run.sh sources it after parse_options.sh:
#   . "$(dirname "$0")/../utils/path.sh"
#
# - `asr` runs this checkout's package (python -m asr with the repository on PYTHONPATH), so a recipe never
#   picks up another installed version;
# - C locale, so every sorted Kaldi file sorts the way Kaldi sorts it;
# - helpers: `log` (timestamped, with the seconds since the recipe started) and `require` (a later stage
#   checks its inputs and names the stage that makes them); stages.sh adds the steps recipes share;
# - `recipe_dir`, `conf` (its conf/), then the recipe works in `--work-dir` (default: the recipe's folder);
#   a relative `--corpus-dir` stays relative to where the user ran the script.

ASR_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
PYTHON=${PYTHON:-python3}
export PYTHONPATH="$ASR_ROOT${PYTHONPATH:+:$PYTHONPATH}"
export LC_ALL=C
export PYTHONUNBUFFERED=1

asr() {
  "$PYTHON" -m asr "$@"
}

log() {
  echo "$(date +%H:%M:%S) [$(basename "$(dirname "$0")")/$(basename "$0") ${SECONDS}s] $*" >&2
}

# require STAGE FILE...: fail unless every FILE exists, naming the stage that writes them.
require() {
  local stage_number=$1 path
  shift
  for path in "$@"; do
    if [ ! -e "$path" ]; then
      log "error: $path is missing; stage $stage_number writes it (run: $0 --stage $stage_number)"
      exit 1
    fi
  done
}

. "$ASR_ROOT/recipes/utils/stages.sh"

recipe_dir=$(cd "$(dirname "$0")" && pwd)
conf=$recipe_dir/conf
if [ -n "${corpus_dir:-}" ]; then
  corpus_dir=$(cd "$corpus_dir" && pwd)
fi
work_dir=${work_dir:-$recipe_dir}
mkdir -p "$work_dir"
cd "$work_dir"
