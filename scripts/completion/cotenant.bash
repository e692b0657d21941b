# bash completion for cotenant: its commands, each command's options and
# their values where they are a fixed list, and file names elsewhere. The
# commands and options are read from cotenant's own --help (so they never
# fall out of step with the program), once per shell.
#   source scripts/completion/cotenant.bash   (cmake --install puts it in
#   share/bash-completion/completions, where bash-completion finds it)

_cotenant_words() { # _cotenant_words [COMMAND]: the commands, or COMMAND's options
    local key=_cotenant_cache_${1:-top}
    key=${key//-/_}
    if [[ -z ${!key+x} ]]; then
        local text
        if [[ -z $1 ]]; then
            text=$(cotenant --help 2>/dev/null | awk '/^Commands:/ { c = 1; next } c && /^  [a-z]/ { print $1 } c && /^$/ { c = 0 }')
        else
            text=$(cotenant "$1" --help 2>/dev/null | grep -oE '(^|[ ,])--?[a-zA-Z][a-zA-Z0-9-]*' | tr -d ' ,' | sort -u)
        fi
        printf -v "$key" '%s' "$text"
    fi
    printf '%s\n' "${!key}"
}

_cotenant() {
    local cur prev cmd i
    cur=${COMP_WORDS[COMP_CWORD]}
    prev=${COMP_WORDS[COMP_CWORD - 1]}
    for ((i = 1; i < COMP_CWORD; i++)); do
        [[ ${COMP_WORDS[i]} != -* ]] && { cmd=${COMP_WORDS[i]}; break; }
    done
    if [[ -z $cmd ]]; then
        COMPREPLY=($(compgen -W "$(_cotenant_words) --help --version" -- "$cur"))
        return
    fi
    case $prev in
        --executor) COMPREPLY=($(compgen -W "local compose k8s" -- "$cur")); return ;;
        --modes|--mode|-m) COMPREPLY=($(compgen -W "exclusive timeslice mps mig mig-emulated" -- "$cur")); return ;;
        --gpu-model) COMPREPLY=($(compgen -W "A100-40GB A100-80GB H100-80GB H100-94GB H200-141GB" -- "$cur")); return ;;
        --out|-o|--state|--csv|--jsonl) COMPREPLY=($(compgen -f -- "$cur")); return ;;
    esac
    if [[ $cur == -* ]]; then
        COMPREPLY=($(compgen -W "$(_cotenant_words "$cmd")" -- "$cur"))
    elif [[ $cmd == mig && $prev == mig ]]; then
        COMPREPLY=($(compgen -W "profiles plan export import status apply disable restore" -- "$cur"))
    elif [[ $cmd == deploy && $prev == deploy ]]; then
        COMPREPLY=($(compgen -W "compose k8s" -- "$cur"))
    else # scenarios and results folders
        COMPREPLY=($(compgen -f -- "$cur"))
    fi
}
complete -o filenames -F _cotenant cotenant
