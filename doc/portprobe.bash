# bash completion for portprobe (installed by meson install; checked against the
# command's --help by the cli tests).
_portprobe() {
  local cur prev cmd opts
  cur=${COMP_WORDS[COMP_CWORD]}
  prev=${COMP_WORDS[COMP_CWORD-1]}
  local commands="get check find scan wait who kill locks"
  if [[ $COMP_CWORD -eq 1 ]]; then
    COMPREPLY=($(compgen -W "$commands --help --version" -- "$cur"))
    return
  fi
  cmd=${COMP_WORDS[1]}
  # After `wait ... --`: a command and its arguments.
  local i
  for ((i = 2; i < COMP_CWORD; i++)); do
    if [[ $cmd == wait && ${COMP_WORDS[i]} == -- ]]; then
      COMPREPLY=($(compgen -c -- "$cur"))
      return
    fi
  done
  case $prev in
    --signal|-s) COMPREPLY=($(compgen -W "TERM INT HUP KILL QUIT USR1 USR2" -- "$cur")); return ;;
  esac
  case $cmd in
    get)   opts="--exclude --host --no-fallback --count --avoid-ephemeral --time-wait --json" ;;
    check) opts="--host --timeout --json" ;;
    find)  opts="--in-use --free --host --timeout --json" ;;
    scan)  opts="--host --timeout --json --verbose --concurrency" ;;
    wait)  opts="--host --timeout --interval --free --any -q --quiet" ;;
    who)   opts="--json" ;;
    kill)  opts="-s --signal --timeout --json" ;;
    locks) opts="--json" ;;
    *)     return ;;
  esac
  COMPREPLY=($(compgen -W "$opts --help -h" -- "$cur"))
}
complete -F _portprobe portprobe
