# Print an optspec for argparse to handle cmd's options that are independent of any subcommand.
function __fish_hookctl_global_optspecs
    string join \n socket= json no-color raw h/help V/version
end

function __fish_hookctl_needs_command
    # Figure out if the current invocation already has a command.
    set -l cmd (commandline -opc)
    set -e cmd[1]
    argparse -s (__fish_hookctl_global_optspecs) -- $cmd 2>/dev/null
    or return
    if set -q argv[1]
        # Also print the command, so this can be used to figure out what it is.
        echo $argv[1]
        return 1
    end
    return 0
end

function __fish_hookctl_using_subcommand
    set -l cmd (__fish_hookctl_needs_command)
    test -z "$cmd"
    and return 1
    contains -- $cmd[1] $argv
end

complete -c hookctl -n "__fish_hookctl_needs_command" -l socket -d 'Control socket of the daemon [default: /run/hookd/hookd.sock as root, else $XDG_RUNTIME_DIR/hookd/hookd.sock]' -r -F
complete -c hookctl -n "__fish_hookctl_needs_command" -l json -d 'Print exactly one JSON document (NDJSON lines for `logs -f`)'
complete -c hookctl -n "__fish_hookctl_needs_command" -l no-color -d 'Never colour output (also when NO_COLOR is set)'
complete -c hookctl -n "__fish_hookctl_needs_command" -l raw -d 'Print script output and caller data as received, also to a terminal (by default control characters other than newline and tab are shown escaped there, as \\x1b)'
complete -c hookctl -n "__fish_hookctl_needs_command" -s h -l help -d 'Print help'
complete -c hookctl -n "__fish_hookctl_needs_command" -s V -l version -d 'Print version'
complete -c hookctl -n "__fish_hookctl_needs_command" -f -a "create" -d 'Create a hook and print its URL (the token is shown only this once)'
complete -c hookctl -n "__fish_hookctl_needs_command" -f -a "list" -d 'List hooks'
complete -c hookctl -n "__fish_hookctl_needs_command" -f -a "show" -d 'Show one hook in full (never its token or secrets)'
complete -c hookctl -n "__fish_hookctl_needs_command" -f -a "enable" -d 'Enable a hook: its URL answers again'
complete -c hookctl -n "__fish_hookctl_needs_command" -f -a "disable" -d 'Disable a hook: its URL answers 404 until enabled'
complete -c hookctl -n "__fish_hookctl_needs_command" -f -a "delete" -d 'Delete a hook (asks first on a terminal; without one, needs --yes)'
complete -c hookctl -n "__fish_hookctl_needs_command" -f -a "regenerate" -d 'Give a hook a new token; the old URL stops working at once (asks as delete does)'
complete -c hookctl -n "__fish_hookctl_needs_command" -f -a "test" -d 'Call an incoming hook as an HTTP caller would, or send a test event to an outgoing hook'
complete -c hookctl -n "__fish_hookctl_needs_command" -f -a "logs" -d 'Show incoming calls, outgoing attempts and management actions'
complete -c hookctl -n "__fish_hookctl_needs_command" -f -a "runs" -d 'Show script runs, or one run with its output (`runs show ID [--follow]`); wait for, cancel or rerun a run'
complete -c hookctl -n "__fish_hookctl_needs_command" -f -a "deliveries" -d 'Show outgoing deliveries, newest first'
complete -c hookctl -n "__fish_hookctl_needs_command" -f -a "redeliver" -d 'Send a stored delivery again, now, with the same id and webhook-id; with --failed, every failed delivery (of hook NAME) instead'
complete -c hookctl -n "__fish_hookctl_needs_command" -f -a "apply" -d 'Make the hooks match a TOML file of [[hook]] tables (idempotent)'
complete -c hookctl -n "__fish_hookctl_needs_command" -f -a "import" -d 'Create hooks from an adnanh/webhook hooks file (JSON or YAML), idempotently like apply'
complete -c hookctl -n "__fish_hookctl_needs_command" -f -a "export" -d 'Print hooks as a TOML file that `apply` accepts (never tokens)'
complete -c hookctl -n "__fish_hookctl_needs_command" -f -a "rotate-secret" -d 'Give a hook a new secret; the old one stays valid for the overlap (outgoing deliveries are signed with both meanwhile). A hook holds at most two'
complete -c hookctl -n "__fish_hookctl_needs_command" -f -a "emit" -d 'Publish an event of your own to the outgoing hooks that subscribe to it (signed, templated and retried like hookd\'s events); exits 0 once it and its deliveries are on disk'
complete -c hookctl -n "__fish_hookctl_needs_command" -f -a "status" -d 'Show the daemon\'s version, uptime, addresses and load'
complete -c hookctl -n "__fish_hookctl_needs_command" -f -a "completions" -d 'Print shell completions'
complete -c hookctl -n "__fish_hookctl_needs_command" -f -a "edit" -d 'Change options of a hook; options not given stay as they are'
complete -c hookctl -n "__fish_hookctl_needs_command" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c hookctl -n "__fish_hookctl_using_subcommand create" -l script -d 'Script hook: run this file\'s text (\'-\' reads it from stdin)' -r
complete -c hookctl -n "__fish_hookctl_using_subcommand create" -l run -d 'Script hook: run this shell text' -r
complete -c hookctl -n "__fish_hookctl_using_subcommand create" -l url -d 'Outgoing hook: deliver events to this URL' -r
complete -c hookctl -n "__fish_hookctl_using_subcommand create" -l description -d 'Free text shown in listings' -r
complete -c hookctl -n "__fish_hookctl_using_subcommand create" -l user -d 'Script: system user the script runs as (needs hookd to run as root)' -r
complete -c hookctl -n "__fish_hookctl_using_subcommand create" -l raw-output -d 'Script: answer with the script\'s stdout as text/plain instead of JSON' -r -f -a "true\t''
false\t''"
complete -c hookctl -n "__fish_hookctl_using_subcommand create" -l stream -d 'Script (sync): answer 200 at once and send the output as the script writes it, then `[hookd: exit N]` (Server-Sent Events for callers that accept text/event-stream)' -r -f -a "true\t''
false\t''"
complete -c hookctl -n "__fish_hookctl_using_subcommand create" -l timeout -d 'Script or outgoing: time limit, e.g. 30s, 5m' -r
complete -c hookctl -n "__fish_hookctl_using_subcommand create" -l concurrency -d 'Script: runs of this hook at the same time [default: 1]' -r
complete -c hookctl -n "__fish_hookctl_using_subcommand create" -l queue-limit -d 'Script: calls that may wait for a free slot before 429 [default: 32]' -r
complete -c hookctl -n "__fish_hookctl_using_subcommand create" -l method -d 'Script: allowed HTTP method, repeatable [default: GET, POST]; outgoing: POST or PUT' -r
complete -c hookctl -n "__fish_hookctl_using_subcommand create" -l cwd -d 'Script: working directory (absolute)' -r
complete -c hookctl -n "__fish_hookctl_using_subcommand create" -l env -d 'Script: extra environment variable, repeatable (V may be a secret: -, @file:, @credential:)' -r
complete -c hookctl -n "__fish_hookctl_using_subcommand create" -l verify -d 'Script: verify callers: github, gitlab, standard, hmac-sha1, hmac-sha256, hmac-sha512, stripe, shopify, slack, gitea, bitbucket, discord, basic, none' -r
complete -c hookctl -n "__fish_hookctl_using_subcommand create" -l secret -d 'Script: verification secret; outgoing: whsec_ signing secret. \'-\' reads it from stdin; @file:PATH and @credential:NAME (from $CREDENTIALS_DIRECTORY) are read by hookd at each use, as are these forms given to --basic-auth, --bearer, --header and --env Incoming hooks take several (any one verifies; e.g. while senders move to a new one)' -r
complete -c hookctl -n "__fish_hookctl_using_subcommand create" -l signature-header -d 'Script: header holding the hex HMAC for --verify hmac-sha1|hmac-sha256|hmac-sha512 [default: X-Signature]' -r
complete -c hookctl -n "__fish_hookctl_using_subcommand create" -l public-key -d 'Script: Ed25519 public key (hex) for --verify discord' -r
complete -c hookctl -n "__fish_hookctl_using_subcommand create" -l allow-ip -d 'Incoming: only callers from this network, repeatable (IPv4/IPv6 CIDR)' -r
complete -c hookctl -n "__fish_hookctl_using_subcommand create" -l rate-limit -d 'Incoming: at most this many calls per period, e.g. 60/m (s, m, h); more get 429' -r
complete -c hookctl -n "__fish_hookctl_using_subcommand create" -l keep-header -d 'Incoming: pass this header into events unredacted although its name looks like a credential (names containing key, token, secret, signature, auth, password or cookie are redacted otherwise), repeatable' -r
complete -c hookctl -n "__fish_hookctl_using_subcommand create" -l if -d 'Incoming: run (or accept) a call only when EXPR holds, e.g. "payload.ref == \'refs/heads/main\' && header(\'X-GitHub-Event\') == \'push\'"; \'\' clears it' -r
complete -c hookctl -n "__fish_hookctl_using_subcommand create" -l exec -d 'Script: run this program directly, no shell, instead of a script text (absolute path)' -r
complete -c hookctl -n "__fish_hookctl_using_subcommand create" -l arg -d 'Script with --exec: one argument from the request, repeatable, in order. REF is payload:NAME, header:NAME, query:NAME, request:method|remote-addr|body, string:TEXT, entire-payload, entire-headers or entire-query; each is one argument, never split' -r
complete -c hookctl -n "__fish_hookctl_using_subcommand create" -l env-from -d 'Script: set VAR to a request value (REF as for --arg), repeatable; unset when missing' -r
complete -c hookctl -n "__fish_hookctl_using_subcommand create" -l file-from -d 'Script: write a request value to a 0600 file whose path is in VAR (removed after the run); \',base64\' decodes it first; repeatable; no file when the value is missing' -r
complete -c hookctl -n "__fish_hookctl_using_subcommand create" -l parse-json -d 'Script: decode this payload field\'s JSON text so payload: paths reach inside, repeatable' -r
complete -c hookctl -n "__fish_hookctl_using_subcommand create" -l content-type -d 'Incoming: read the body as this content type, whatever the request says' -r
complete -c hookctl -n "__fish_hookctl_using_subcommand create" -l path -d 'Incoming: also serve the hook at this public path, /hooks/NAME (needs --verify or --allow-ip, else --insecure-path); \'\' removes it' -r
complete -c hookctl -n "__fish_hookctl_using_subcommand create" -l insecure-path -d 'Incoming: allow --path without --verify or --allow-ip' -r -f -a "true\t''
false\t''"
complete -c hookctl -n "__fish_hookctl_using_subcommand create" -l node -d 'Script: on a database several nodes share, run only on the node of this node_name (other nodes answer 421); \'\' removes it' -r
complete -c hookctl -n "__fish_hookctl_using_subcommand create" -l if-mismatch-status -d 'Incoming: the status answered when --if is false (default 200)' -r
complete -c hookctl -n "__fish_hookctl_using_subcommand create" -l success-status -d 'Script: status of a successful sync answer or an accepted async call (default 200/202)' -r
complete -c hookctl -n "__fish_hookctl_using_subcommand create" -l response-header -d 'Script: add this header to every answer of a call that passed the checks, repeatable' -r
complete -c hookctl -n "__fish_hookctl_using_subcommand create" -l response-body -d 'Script: body of the async answer, or of a successful sync one with --output none' -r
complete -c hookctl -n "__fish_hookctl_using_subcommand create" -l output -d 'Script: answer with plain text: stdout, combined (stdout and stderr in arrival order) or none; a failed run then answers 500 with a generic message unless --error-output' -r
complete -c hookctl -n "__fish_hookctl_using_subcommand create" -l error-output -d 'Script with --output: answer with the output when the run failed too' -r -f -a "true\t''
false\t''"
complete -c hookctl -n "__fish_hookctl_using_subcommand create" -l param -d 'Script: HOOKD_PARAM_NAME from a JSON pointer into the body, repeatable' -r
complete -c hookctl -n "__fish_hookctl_using_subcommand create" -l avatar-url -d 'Message: avatar_url used when a message has none' -r
complete -c hookctl -n "__fish_hookctl_using_subcommand create" -l event -d 'Outgoing: event pattern to deliver, repeatable (exact name, prefix.*, *)' -r
complete -c hookctl -n "__fish_hookctl_using_subcommand create" -l type -d 'Outgoing: events (every non-alarm event) or alarms (failures) by default' -r -f -a "events\t''
alarms\t''"
complete -c hookctl -n "__fish_hookctl_using_subcommand create" -l language -d 'Outgoing: language of the human message text' -r -f -a "en\t''
zh\t''"
complete -c hookctl -n "__fish_hookctl_using_subcommand create" -l template -d 'Outgoing: JSON payload template file with ${…} placeholders' -r -F
complete -c hookctl -n "__fish_hookctl_using_subcommand create" -l format -d 'Outgoing: payload format' -r -f -a "default\t''
slack\t''
discord\t''"
complete -c hookctl -n "__fish_hookctl_using_subcommand create" -l header -d 'Outgoing: extra header, repeatable (the value may be -, @file:PATH or @credential:NAME)' -r
complete -c hookctl -n "__fish_hookctl_using_subcommand create" -l basic-auth -d 'Outgoing: HTTP basic auth sent to the receiver (or -, @file:PATH, @credential:NAME); script with --verify basic: the credentials callers must send (stored hashed; given inline or as -)' -r
complete -c hookctl -n "__fish_hookctl_using_subcommand create" -l bearer -d 'Outgoing: bearer token for the receiver (or -, @file:PATH, @credential:NAME)' -r
complete -c hookctl -n "__fish_hookctl_using_subcommand create" -l rate -d 'Outgoing: at most this many deliveries per period, evenly spaced, e.g. 10/s or 100/m; the rest wait their turn (never dropped)' -r
complete -c hookctl -n "__fish_hookctl_using_subcommand create" -l include-secret -d 'Outgoing: add "secret" to the payload, for receivers that check it there' -r -f -a "true\t''
false\t''"
complete -c hookctl -n "__fish_hookctl_using_subcommand create" -l match-hook -d 'Outgoing: only webhook.received events of this hook' -r
complete -c hookctl -n "__fish_hookctl_using_subcommand create" -l match-method -d 'Outgoing: only webhook.received events with this method' -r
complete -c hookctl -n "__fish_hookctl_using_subcommand create" -l match-path -d 'Outgoing: only webhook.received events whose path matches this regex' -r
complete -c hookctl -n "__fish_hookctl_using_subcommand create" -l socket -d 'Control socket of the daemon [default: /run/hookd/hookd.sock as root, else $XDG_RUNTIME_DIR/hookd/hookd.sock]' -r -F
complete -c hookctl -n "__fish_hookctl_using_subcommand create" -l message -d 'Message hook: accept chat-style JSON messages'
complete -c hookctl -n "__fish_hookctl_using_subcommand create" -l disabled -d 'Create the hook disabled'
complete -c hookctl -n "__fish_hookctl_using_subcommand create" -l async -d 'Script: answer 202 with a run id at once and run in the background'
complete -c hookctl -n "__fish_hookctl_using_subcommand create" -l sync -d 'Script: answer with the script\'s output when it finishes (the default)'
complete -c hookctl -n "__fish_hookctl_using_subcommand create" -l generate-secret -d 'Outgoing: make a new whsec_ signing secret and print it once'
complete -c hookctl -n "__fish_hookctl_using_subcommand create" -l json -d 'Print exactly one JSON document (NDJSON lines for `logs -f`)'
complete -c hookctl -n "__fish_hookctl_using_subcommand create" -l no-color -d 'Never colour output (also when NO_COLOR is set)'
complete -c hookctl -n "__fish_hookctl_using_subcommand create" -l raw -d 'Print script output and caller data as received, also to a terminal (by default control characters other than newline and tab are shown escaped there, as \\x1b)'
complete -c hookctl -n "__fish_hookctl_using_subcommand create" -s h -l help -d 'Print help'
complete -c hookctl -n "__fish_hookctl_using_subcommand list" -l kind -d 'Only hooks of this kind' -r -f -a "script\t''
message\t''
outgoing\t''"
complete -c hookctl -n "__fish_hookctl_using_subcommand list" -l socket -d 'Control socket of the daemon [default: /run/hookd/hookd.sock as root, else $XDG_RUNTIME_DIR/hookd/hookd.sock]' -r -F
complete -c hookctl -n "__fish_hookctl_using_subcommand list" -l json -d 'Print exactly one JSON document (NDJSON lines for `logs -f`)'
complete -c hookctl -n "__fish_hookctl_using_subcommand list" -l no-color -d 'Never colour output (also when NO_COLOR is set)'
complete -c hookctl -n "__fish_hookctl_using_subcommand list" -l raw -d 'Print script output and caller data as received, also to a terminal (by default control characters other than newline and tab are shown escaped there, as \\x1b)'
complete -c hookctl -n "__fish_hookctl_using_subcommand list" -s h -l help -d 'Print help'
complete -c hookctl -n "__fish_hookctl_using_subcommand show" -l socket -d 'Control socket of the daemon [default: /run/hookd/hookd.sock as root, else $XDG_RUNTIME_DIR/hookd/hookd.sock]' -r -F
complete -c hookctl -n "__fish_hookctl_using_subcommand show" -l json -d 'Print exactly one JSON document (NDJSON lines for `logs -f`)'
complete -c hookctl -n "__fish_hookctl_using_subcommand show" -l no-color -d 'Never colour output (also when NO_COLOR is set)'
complete -c hookctl -n "__fish_hookctl_using_subcommand show" -l raw -d 'Print script output and caller data as received, also to a terminal (by default control characters other than newline and tab are shown escaped there, as \\x1b)'
complete -c hookctl -n "__fish_hookctl_using_subcommand show" -s h -l help -d 'Print help'
complete -c hookctl -n "__fish_hookctl_using_subcommand enable" -l socket -d 'Control socket of the daemon [default: /run/hookd/hookd.sock as root, else $XDG_RUNTIME_DIR/hookd/hookd.sock]' -r -F
complete -c hookctl -n "__fish_hookctl_using_subcommand enable" -l json -d 'Print exactly one JSON document (NDJSON lines for `logs -f`)'
complete -c hookctl -n "__fish_hookctl_using_subcommand enable" -l no-color -d 'Never colour output (also when NO_COLOR is set)'
complete -c hookctl -n "__fish_hookctl_using_subcommand enable" -l raw -d 'Print script output and caller data as received, also to a terminal (by default control characters other than newline and tab are shown escaped there, as \\x1b)'
complete -c hookctl -n "__fish_hookctl_using_subcommand enable" -s h -l help -d 'Print help'
complete -c hookctl -n "__fish_hookctl_using_subcommand disable" -l socket -d 'Control socket of the daemon [default: /run/hookd/hookd.sock as root, else $XDG_RUNTIME_DIR/hookd/hookd.sock]' -r -F
complete -c hookctl -n "__fish_hookctl_using_subcommand disable" -l json -d 'Print exactly one JSON document (NDJSON lines for `logs -f`)'
complete -c hookctl -n "__fish_hookctl_using_subcommand disable" -l no-color -d 'Never colour output (also when NO_COLOR is set)'
complete -c hookctl -n "__fish_hookctl_using_subcommand disable" -l raw -d 'Print script output and caller data as received, also to a terminal (by default control characters other than newline and tab are shown escaped there, as \\x1b)'
complete -c hookctl -n "__fish_hookctl_using_subcommand disable" -s h -l help -d 'Print help'
complete -c hookctl -n "__fish_hookctl_using_subcommand delete" -l socket -d 'Control socket of the daemon [default: /run/hookd/hookd.sock as root, else $XDG_RUNTIME_DIR/hookd/hookd.sock]' -r -F
complete -c hookctl -n "__fish_hookctl_using_subcommand delete" -s y -l yes -d 'Do not ask for confirmation (needed when not on a terminal, else exit 2)'
complete -c hookctl -n "__fish_hookctl_using_subcommand delete" -l json -d 'Print exactly one JSON document (NDJSON lines for `logs -f`)'
complete -c hookctl -n "__fish_hookctl_using_subcommand delete" -l no-color -d 'Never colour output (also when NO_COLOR is set)'
complete -c hookctl -n "__fish_hookctl_using_subcommand delete" -l raw -d 'Print script output and caller data as received, also to a terminal (by default control characters other than newline and tab are shown escaped there, as \\x1b)'
complete -c hookctl -n "__fish_hookctl_using_subcommand delete" -s h -l help -d 'Print help'
complete -c hookctl -n "__fish_hookctl_using_subcommand regenerate" -l socket -d 'Control socket of the daemon [default: /run/hookd/hookd.sock as root, else $XDG_RUNTIME_DIR/hookd/hookd.sock]' -r -F
complete -c hookctl -n "__fish_hookctl_using_subcommand regenerate" -s y -l yes -d 'Do not ask for confirmation (needed when not on a terminal, else exit 2)'
complete -c hookctl -n "__fish_hookctl_using_subcommand regenerate" -l json -d 'Print exactly one JSON document (NDJSON lines for `logs -f`)'
complete -c hookctl -n "__fish_hookctl_using_subcommand regenerate" -l no-color -d 'Never colour output (also when NO_COLOR is set)'
complete -c hookctl -n "__fish_hookctl_using_subcommand regenerate" -l raw -d 'Print script output and caller data as received, also to a terminal (by default control characters other than newline and tab are shown escaped there, as \\x1b)'
complete -c hookctl -n "__fish_hookctl_using_subcommand regenerate" -s h -l help -d 'Print help'
complete -c hookctl -n "__fish_hookctl_using_subcommand test" -l data -d 'Request body: JSON text, or @FILE to read it from a file' -r
complete -c hookctl -n "__fish_hookctl_using_subcommand test" -l method -d 'HTTP method [default: POST]' -r
complete -c hookctl -n "__fish_hookctl_using_subcommand test" -l socket -d 'Control socket of the daemon [default: /run/hookd/hookd.sock as root, else $XDG_RUNTIME_DIR/hookd/hookd.sock]' -r -F
complete -c hookctl -n "__fish_hookctl_using_subcommand test" -l json -d 'Print exactly one JSON document (NDJSON lines for `logs -f`)'
complete -c hookctl -n "__fish_hookctl_using_subcommand test" -l no-color -d 'Never colour output (also when NO_COLOR is set)'
complete -c hookctl -n "__fish_hookctl_using_subcommand test" -l raw -d 'Print script output and caller data as received, also to a terminal (by default control characters other than newline and tab are shown escaped there, as \\x1b)'
complete -c hookctl -n "__fish_hookctl_using_subcommand test" -s h -l help -d 'Print help'
complete -c hookctl -n "__fish_hookctl_using_subcommand logs" -s n -l lines -d 'How many recent entries' -r
complete -c hookctl -n "__fish_hookctl_using_subcommand logs" -l direction -d 'Only incoming calls, outgoing attempts, or management actions' -r -f -a "in\t''
out\t''
admin\t''"
complete -c hookctl -n "__fish_hookctl_using_subcommand logs" -l since -d 'Only entries newer than this, e.g. 10m, 2h, 7d' -r
complete -c hookctl -n "__fish_hookctl_using_subcommand logs" -l socket -d 'Control socket of the daemon [default: /run/hookd/hookd.sock as root, else $XDG_RUNTIME_DIR/hookd/hookd.sock]' -r -F
complete -c hookctl -n "__fish_hookctl_using_subcommand logs" -s f -l follow -d 'Keep printing entries as they happen'
complete -c hookctl -n "__fish_hookctl_using_subcommand logs" -l failed -d 'Only failures (HTTP status >= 400 or an error)'
complete -c hookctl -n "__fish_hookctl_using_subcommand logs" -l json -d 'Print exactly one JSON document (NDJSON lines for `logs -f`)'
complete -c hookctl -n "__fish_hookctl_using_subcommand logs" -l no-color -d 'Never colour output (also when NO_COLOR is set)'
complete -c hookctl -n "__fish_hookctl_using_subcommand logs" -l raw -d 'Print script output and caller data as received, also to a terminal (by default control characters other than newline and tab are shown escaped there, as \\x1b)'
complete -c hookctl -n "__fish_hookctl_using_subcommand logs" -s h -l help -d 'Print help'
complete -c hookctl -n "__fish_hookctl_using_subcommand runs; and not __fish_seen_subcommand_from show wait cancel rerun help" -s n -l lines -d 'How many recent runs' -r
complete -c hookctl -n "__fish_hookctl_using_subcommand runs; and not __fish_seen_subcommand_from show wait cancel rerun help" -l status -d 'Only runs with this status' -r -f -a "queued\t''
running\t''
success\t''
failed\t''
timeout\t''
interrupted\t''
cancelled\t''"
complete -c hookctl -n "__fish_hookctl_using_subcommand runs; and not __fish_seen_subcommand_from show wait cancel rerun help" -l socket -d 'Control socket of the daemon [default: /run/hookd/hookd.sock as root, else $XDG_RUNTIME_DIR/hookd/hookd.sock]' -r -F
complete -c hookctl -n "__fish_hookctl_using_subcommand runs; and not __fish_seen_subcommand_from show wait cancel rerun help" -l json -d 'Print exactly one JSON document (NDJSON lines for `logs -f`)'
complete -c hookctl -n "__fish_hookctl_using_subcommand runs; and not __fish_seen_subcommand_from show wait cancel rerun help" -l no-color -d 'Never colour output (also when NO_COLOR is set)'
complete -c hookctl -n "__fish_hookctl_using_subcommand runs; and not __fish_seen_subcommand_from show wait cancel rerun help" -l raw -d 'Print script output and caller data as received, also to a terminal (by default control characters other than newline and tab are shown escaped there, as \\x1b)'
complete -c hookctl -n "__fish_hookctl_using_subcommand runs; and not __fish_seen_subcommand_from show wait cancel rerun help" -s h -l help -d 'Print help'
complete -c hookctl -n "__fish_hookctl_using_subcommand runs; and not __fish_seen_subcommand_from show wait cancel rerun help" -a "show" -d 'One run with its captured stdout and stderr'
complete -c hookctl -n "__fish_hookctl_using_subcommand runs; and not __fish_seen_subcommand_from show wait cancel rerun help" -a "wait" -d 'Wait until the run ends and print `run ID STATUS exit CODE` (exit 0 for success, 1 otherwise)'
complete -c hookctl -n "__fish_hookctl_using_subcommand runs; and not __fish_seen_subcommand_from show wait cancel rerun help" -a "cancel" -d 'Cancel a queued run (it never starts) or a running one (SIGTERM to its process group, SIGKILL after the grace period)'
complete -c hookctl -n "__fish_hookctl_using_subcommand runs; and not __fish_seen_subcommand_from show wait cancel rerun help" -a "rerun" -d 'Run the hook again with the run\'s stored request (body, method, headers, query)'
complete -c hookctl -n "__fish_hookctl_using_subcommand runs; and not __fish_seen_subcommand_from show wait cancel rerun help" -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c hookctl -n "__fish_hookctl_using_subcommand runs; and __fish_seen_subcommand_from show" -l socket -d 'Control socket of the daemon [default: /run/hookd/hookd.sock as root, else $XDG_RUNTIME_DIR/hookd/hookd.sock]' -r -F
complete -c hookctl -n "__fish_hookctl_using_subcommand runs; and __fish_seen_subcommand_from show" -s f -l follow -d 'Print the output so far, then as the script writes it, until the run ends (exit 0 for success, 1 otherwise)'
complete -c hookctl -n "__fish_hookctl_using_subcommand runs; and __fish_seen_subcommand_from show" -l json -d 'Print exactly one JSON document (NDJSON lines for `logs -f`)'
complete -c hookctl -n "__fish_hookctl_using_subcommand runs; and __fish_seen_subcommand_from show" -l no-color -d 'Never colour output (also when NO_COLOR is set)'
complete -c hookctl -n "__fish_hookctl_using_subcommand runs; and __fish_seen_subcommand_from show" -l raw -d 'Print script output and caller data as received, also to a terminal (by default control characters other than newline and tab are shown escaped there, as \\x1b)'
complete -c hookctl -n "__fish_hookctl_using_subcommand runs; and __fish_seen_subcommand_from show" -s h -l help -d 'Print help'
complete -c hookctl -n "__fish_hookctl_using_subcommand runs; and __fish_seen_subcommand_from wait" -l timeout -d 'Give up after this long (exit 1; the run goes on), e.g. 30s, 10m' -r
complete -c hookctl -n "__fish_hookctl_using_subcommand runs; and __fish_seen_subcommand_from wait" -l socket -d 'Control socket of the daemon [default: /run/hookd/hookd.sock as root, else $XDG_RUNTIME_DIR/hookd/hookd.sock]' -r -F
complete -c hookctl -n "__fish_hookctl_using_subcommand runs; and __fish_seen_subcommand_from wait" -l json -d 'Print exactly one JSON document (NDJSON lines for `logs -f`)'
complete -c hookctl -n "__fish_hookctl_using_subcommand runs; and __fish_seen_subcommand_from wait" -l no-color -d 'Never colour output (also when NO_COLOR is set)'
complete -c hookctl -n "__fish_hookctl_using_subcommand runs; and __fish_seen_subcommand_from wait" -l raw -d 'Print script output and caller data as received, also to a terminal (by default control characters other than newline and tab are shown escaped there, as \\x1b)'
complete -c hookctl -n "__fish_hookctl_using_subcommand runs; and __fish_seen_subcommand_from wait" -s h -l help -d 'Print help'
complete -c hookctl -n "__fish_hookctl_using_subcommand runs; and __fish_seen_subcommand_from cancel" -l socket -d 'Control socket of the daemon [default: /run/hookd/hookd.sock as root, else $XDG_RUNTIME_DIR/hookd/hookd.sock]' -r -F
complete -c hookctl -n "__fish_hookctl_using_subcommand runs; and __fish_seen_subcommand_from cancel" -l json -d 'Print exactly one JSON document (NDJSON lines for `logs -f`)'
complete -c hookctl -n "__fish_hookctl_using_subcommand runs; and __fish_seen_subcommand_from cancel" -l no-color -d 'Never colour output (also when NO_COLOR is set)'
complete -c hookctl -n "__fish_hookctl_using_subcommand runs; and __fish_seen_subcommand_from cancel" -l raw -d 'Print script output and caller data as received, also to a terminal (by default control characters other than newline and tab are shown escaped there, as \\x1b)'
complete -c hookctl -n "__fish_hookctl_using_subcommand runs; and __fish_seen_subcommand_from cancel" -s h -l help -d 'Print help'
complete -c hookctl -n "__fish_hookctl_using_subcommand runs; and __fish_seen_subcommand_from rerun" -l socket -d 'Control socket of the daemon [default: /run/hookd/hookd.sock as root, else $XDG_RUNTIME_DIR/hookd/hookd.sock]' -r -F
complete -c hookctl -n "__fish_hookctl_using_subcommand runs; and __fish_seen_subcommand_from rerun" -l json -d 'Print exactly one JSON document (NDJSON lines for `logs -f`)'
complete -c hookctl -n "__fish_hookctl_using_subcommand runs; and __fish_seen_subcommand_from rerun" -l no-color -d 'Never colour output (also when NO_COLOR is set)'
complete -c hookctl -n "__fish_hookctl_using_subcommand runs; and __fish_seen_subcommand_from rerun" -l raw -d 'Print script output and caller data as received, also to a terminal (by default control characters other than newline and tab are shown escaped there, as \\x1b)'
complete -c hookctl -n "__fish_hookctl_using_subcommand runs; and __fish_seen_subcommand_from rerun" -s h -l help -d 'Print help'
complete -c hookctl -n "__fish_hookctl_using_subcommand runs; and __fish_seen_subcommand_from help" -f -a "show" -d 'One run with its captured stdout and stderr'
complete -c hookctl -n "__fish_hookctl_using_subcommand runs; and __fish_seen_subcommand_from help" -f -a "wait" -d 'Wait until the run ends and print `run ID STATUS exit CODE` (exit 0 for success, 1 otherwise)'
complete -c hookctl -n "__fish_hookctl_using_subcommand runs; and __fish_seen_subcommand_from help" -f -a "cancel" -d 'Cancel a queued run (it never starts) or a running one (SIGTERM to its process group, SIGKILL after the grace period)'
complete -c hookctl -n "__fish_hookctl_using_subcommand runs; and __fish_seen_subcommand_from help" -f -a "rerun" -d 'Run the hook again with the run\'s stored request (body, method, headers, query)'
complete -c hookctl -n "__fish_hookctl_using_subcommand runs; and __fish_seen_subcommand_from help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c hookctl -n "__fish_hookctl_using_subcommand deliveries" -l status -d 'Only deliveries in this state' -r -f -a "pending\t''
failed\t''
succeeded\t''"
complete -c hookctl -n "__fish_hookctl_using_subcommand deliveries" -s n -l lines -d 'How many recent deliveries' -r
complete -c hookctl -n "__fish_hookctl_using_subcommand deliveries" -l socket -d 'Control socket of the daemon [default: /run/hookd/hookd.sock as root, else $XDG_RUNTIME_DIR/hookd/hookd.sock]' -r -F
complete -c hookctl -n "__fish_hookctl_using_subcommand deliveries" -l json -d 'Print exactly one JSON document (NDJSON lines for `logs -f`)'
complete -c hookctl -n "__fish_hookctl_using_subcommand deliveries" -l no-color -d 'Never colour output (also when NO_COLOR is set)'
complete -c hookctl -n "__fish_hookctl_using_subcommand deliveries" -l raw -d 'Print script output and caller data as received, also to a terminal (by default control characters other than newline and tab are shown escaped there, as \\x1b)'
complete -c hookctl -n "__fish_hookctl_using_subcommand deliveries" -s h -l help -d 'Print help'
complete -c hookctl -n "__fish_hookctl_using_subcommand redeliver" -l since -d 'With --failed: only those whose last attempt was within this long, e.g. 2h' -r
complete -c hookctl -n "__fish_hookctl_using_subcommand redeliver" -l socket -d 'Control socket of the daemon [default: /run/hookd/hookd.sock as root, else $XDG_RUNTIME_DIR/hookd/hookd.sock]' -r -F
complete -c hookctl -n "__fish_hookctl_using_subcommand redeliver" -l failed -d 'Queue again every delivery whose status is failed (after an outage)'
complete -c hookctl -n "__fish_hookctl_using_subcommand redeliver" -l json -d 'Print exactly one JSON document (NDJSON lines for `logs -f`)'
complete -c hookctl -n "__fish_hookctl_using_subcommand redeliver" -l no-color -d 'Never colour output (also when NO_COLOR is set)'
complete -c hookctl -n "__fish_hookctl_using_subcommand redeliver" -l raw -d 'Print script output and caller data as received, also to a terminal (by default control characters other than newline and tab are shown escaped there, as \\x1b)'
complete -c hookctl -n "__fish_hookctl_using_subcommand redeliver" -s h -l help -d 'Print help'
complete -c hookctl -n "__fish_hookctl_using_subcommand apply" -s f -l file -d 'The hooks file (\'-\' reads stdin)' -r
complete -c hookctl -n "__fish_hookctl_using_subcommand apply" -l tokens-out -d 'Write the URLs of newly created hooks to this file (mode 0600) instead of printing them' -r -F
complete -c hookctl -n "__fish_hookctl_using_subcommand apply" -l socket -d 'Control socket of the daemon [default: /run/hookd/hookd.sock as root, else $XDG_RUNTIME_DIR/hookd/hookd.sock]' -r -F
complete -c hookctl -n "__fish_hookctl_using_subcommand apply" -l prune -d 'Delete hooks that are not in the file'
complete -c hookctl -n "__fish_hookctl_using_subcommand apply" -l dry-run -d 'Print what would change, change nothing'
complete -c hookctl -n "__fish_hookctl_using_subcommand apply" -l json -d 'Print exactly one JSON document (NDJSON lines for `logs -f`)'
complete -c hookctl -n "__fish_hookctl_using_subcommand apply" -l no-color -d 'Never colour output (also when NO_COLOR is set)'
complete -c hookctl -n "__fish_hookctl_using_subcommand apply" -l raw -d 'Print script output and caller data as received, also to a terminal (by default control characters other than newline and tab are shown escaped there, as \\x1b)'
complete -c hookctl -n "__fish_hookctl_using_subcommand apply" -s h -l help -d 'Print help'
complete -c hookctl -n "__fish_hookctl_using_subcommand import" -l tokens-out -d 'Write the URLs of newly created hooks to this file (mode 0600) instead of printing them' -r -F
complete -c hookctl -n "__fish_hookctl_using_subcommand import" -l socket -d 'Control socket of the daemon [default: /run/hookd/hookd.sock as root, else $XDG_RUNTIME_DIR/hookd/hookd.sock]' -r -F
complete -c hookctl -n "__fish_hookctl_using_subcommand import" -l dry-run -d 'Print what would change, change nothing'
complete -c hookctl -n "__fish_hookctl_using_subcommand import" -l keep-paths -d 'Also serve each hook at /hooks/ID, as webhook did (with --insecure-path where the hook has no other guard)'
complete -c hookctl -n "__fish_hookctl_using_subcommand import" -l skip-invalid -d 'Import the hooks that can be translated and name each one skipped'
complete -c hookctl -n "__fish_hookctl_using_subcommand import" -l template -d 'Treat the file as webhook\'s -template file (also detected by its {{ … }} actions); getenv reads hookctl\'s environment'
complete -c hookctl -n "__fish_hookctl_using_subcommand import" -l json -d 'Print exactly one JSON document (NDJSON lines for `logs -f`)'
complete -c hookctl -n "__fish_hookctl_using_subcommand import" -l no-color -d 'Never colour output (also when NO_COLOR is set)'
complete -c hookctl -n "__fish_hookctl_using_subcommand import" -l raw -d 'Print script output and caller data as received, also to a terminal (by default control characters other than newline and tab are shown escaped there, as \\x1b)'
complete -c hookctl -n "__fish_hookctl_using_subcommand import" -s h -l help -d 'Print help'
complete -c hookctl -n "__fish_hookctl_using_subcommand export" -l socket -d 'Control socket of the daemon [default: /run/hookd/hookd.sock as root, else $XDG_RUNTIME_DIR/hookd/hookd.sock]' -r -F
complete -c hookctl -n "__fish_hookctl_using_subcommand export" -l include-secrets -d 'Include secrets, bearer tokens, basic auth and headers (for backups; keep the output safe)'
complete -c hookctl -n "__fish_hookctl_using_subcommand export" -l json -d 'Print exactly one JSON document (NDJSON lines for `logs -f`)'
complete -c hookctl -n "__fish_hookctl_using_subcommand export" -l no-color -d 'Never colour output (also when NO_COLOR is set)'
complete -c hookctl -n "__fish_hookctl_using_subcommand export" -l raw -d 'Print script output and caller data as received, also to a terminal (by default control characters other than newline and tab are shown escaped there, as \\x1b)'
complete -c hookctl -n "__fish_hookctl_using_subcommand export" -s h -l help -d 'Print help'
complete -c hookctl -n "__fish_hookctl_using_subcommand rotate-secret" -l secret -d 'The new secret (\'-\' reads stdin); outgoing hooks get a generated whsec_ one without it, incoming hooks need it (the sender chooses)' -r
complete -c hookctl -n "__fish_hookctl_using_subcommand rotate-secret" -l overlap -d 'How long the old secret stays valid' -r
complete -c hookctl -n "__fish_hookctl_using_subcommand rotate-secret" -l socket -d 'Control socket of the daemon [default: /run/hookd/hookd.sock as root, else $XDG_RUNTIME_DIR/hookd/hookd.sock]' -r -F
complete -c hookctl -n "__fish_hookctl_using_subcommand rotate-secret" -l json -d 'Print exactly one JSON document (NDJSON lines for `logs -f`)'
complete -c hookctl -n "__fish_hookctl_using_subcommand rotate-secret" -l no-color -d 'Never colour output (also when NO_COLOR is set)'
complete -c hookctl -n "__fish_hookctl_using_subcommand rotate-secret" -l raw -d 'Print script output and caller data as received, also to a terminal (by default control characters other than newline and tab are shown escaped there, as \\x1b)'
complete -c hookctl -n "__fish_hookctl_using_subcommand rotate-secret" -s h -l help -d 'Print help'
complete -c hookctl -n "__fish_hookctl_using_subcommand emit" -l data -d 'The event\'s data: JSON text, @FILE, or \'-\' for stdin [default: {}]' -r
complete -c hookctl -n "__fish_hookctl_using_subcommand emit" -l idempotency-key -d 'Within 24 hours, a second emit with this key queues nothing and prints the first id' -r
complete -c hookctl -n "__fish_hookctl_using_subcommand emit" -l socket -d 'Control socket of the daemon [default: /run/hookd/hookd.sock as root, else $XDG_RUNTIME_DIR/hookd/hookd.sock]' -r -F
complete -c hookctl -n "__fish_hookctl_using_subcommand emit" -l json -d 'Print exactly one JSON document (NDJSON lines for `logs -f`)'
complete -c hookctl -n "__fish_hookctl_using_subcommand emit" -l no-color -d 'Never colour output (also when NO_COLOR is set)'
complete -c hookctl -n "__fish_hookctl_using_subcommand emit" -l raw -d 'Print script output and caller data as received, also to a terminal (by default control characters other than newline and tab are shown escaped there, as \\x1b)'
complete -c hookctl -n "__fish_hookctl_using_subcommand emit" -s h -l help -d 'Print help'
complete -c hookctl -n "__fish_hookctl_using_subcommand status" -l socket -d 'Control socket of the daemon [default: /run/hookd/hookd.sock as root, else $XDG_RUNTIME_DIR/hookd/hookd.sock]' -r -F
complete -c hookctl -n "__fish_hookctl_using_subcommand status" -l json -d 'Print exactly one JSON document (NDJSON lines for `logs -f`)'
complete -c hookctl -n "__fish_hookctl_using_subcommand status" -l no-color -d 'Never colour output (also when NO_COLOR is set)'
complete -c hookctl -n "__fish_hookctl_using_subcommand status" -l raw -d 'Print script output and caller data as received, also to a terminal (by default control characters other than newline and tab are shown escaped there, as \\x1b)'
complete -c hookctl -n "__fish_hookctl_using_subcommand status" -s h -l help -d 'Print help'
complete -c hookctl -n "__fish_hookctl_using_subcommand completions" -l socket -d 'Control socket of the daemon [default: /run/hookd/hookd.sock as root, else $XDG_RUNTIME_DIR/hookd/hookd.sock]' -r -F
complete -c hookctl -n "__fish_hookctl_using_subcommand completions" -l json -d 'Print exactly one JSON document (NDJSON lines for `logs -f`)'
complete -c hookctl -n "__fish_hookctl_using_subcommand completions" -l no-color -d 'Never colour output (also when NO_COLOR is set)'
complete -c hookctl -n "__fish_hookctl_using_subcommand completions" -l raw -d 'Print script output and caller data as received, also to a terminal (by default control characters other than newline and tab are shown escaped there, as \\x1b)'
complete -c hookctl -n "__fish_hookctl_using_subcommand completions" -s h -l help -d 'Print help'
complete -c hookctl -n "__fish_hookctl_using_subcommand edit" -l script -d 'Replace the script with this file\'s text (\'-\' reads stdin)' -r
complete -c hookctl -n "__fish_hookctl_using_subcommand edit" -l run -d 'Replace the script with this shell text' -r
complete -c hookctl -n "__fish_hookctl_using_subcommand edit" -l url -d 'Change the outgoing hook\'s URL' -r
complete -c hookctl -n "__fish_hookctl_using_subcommand edit" -l description -d 'Free text shown in listings' -r
complete -c hookctl -n "__fish_hookctl_using_subcommand edit" -l user -d 'Script: system user the script runs as (needs hookd to run as root)' -r
complete -c hookctl -n "__fish_hookctl_using_subcommand edit" -l raw-output -d 'Script: answer with the script\'s stdout as text/plain instead of JSON' -r -f -a "true\t''
false\t''"
complete -c hookctl -n "__fish_hookctl_using_subcommand edit" -l stream -d 'Script (sync): answer 200 at once and send the output as the script writes it, then `[hookd: exit N]` (Server-Sent Events for callers that accept text/event-stream)' -r -f -a "true\t''
false\t''"
complete -c hookctl -n "__fish_hookctl_using_subcommand edit" -l timeout -d 'Script or outgoing: time limit, e.g. 30s, 5m' -r
complete -c hookctl -n "__fish_hookctl_using_subcommand edit" -l concurrency -d 'Script: runs of this hook at the same time' -r
complete -c hookctl -n "__fish_hookctl_using_subcommand edit" -l queue-limit -d 'Script: calls that may wait for a free slot before 429' -r
complete -c hookctl -n "__fish_hookctl_using_subcommand edit" -l method -d 'Script: allowed HTTP method, repeatable; outgoing: POST or PUT' -r
complete -c hookctl -n "__fish_hookctl_using_subcommand edit" -l cwd -d 'Script: working directory (absolute)' -r
complete -c hookctl -n "__fish_hookctl_using_subcommand edit" -l env -d 'Script: extra environment variable, repeatable (V may be a secret: -, @file:, @credential:)' -r
complete -c hookctl -n "__fish_hookctl_using_subcommand edit" -l verify -d 'Script: verify callers: github, gitlab, standard, hmac-sha1, hmac-sha256, hmac-sha512, stripe, shopify, slack, gitea, bitbucket, discord, basic, none' -r
complete -c hookctl -n "__fish_hookctl_using_subcommand edit" -l secret -d 'Script: verification secret; outgoing: whsec_ signing secret. \'-\' reads it from stdin; @file:PATH and @credential:NAME (from $CREDENTIALS_DIRECTORY) are read by hookd at each use, as are these forms given to --basic-auth, --bearer, --header and --env Incoming hooks take several (any one verifies; e.g. while senders move to a new one)' -r
complete -c hookctl -n "__fish_hookctl_using_subcommand edit" -l signature-header -d 'Script: header holding the hex HMAC for --verify hmac-sha1|hmac-sha256|hmac-sha512' -r
complete -c hookctl -n "__fish_hookctl_using_subcommand edit" -l public-key -d 'Script: Ed25519 public key (hex) for --verify discord' -r
complete -c hookctl -n "__fish_hookctl_using_subcommand edit" -l allow-ip -d 'Incoming: only callers from this network, repeatable (IPv4/IPv6 CIDR)' -r
complete -c hookctl -n "__fish_hookctl_using_subcommand edit" -l rate-limit -d 'Incoming: at most this many calls per period, e.g. 60/m (s, m, h); more get 429' -r
complete -c hookctl -n "__fish_hookctl_using_subcommand edit" -l keep-header -d 'Incoming: pass this header into events unredacted although its name looks like a credential (names containing key, token, secret, signature, auth, password or cookie are redacted otherwise), repeatable' -r
complete -c hookctl -n "__fish_hookctl_using_subcommand edit" -l if -d 'Incoming: run (or accept) a call only when EXPR holds, e.g. "payload.ref == \'refs/heads/main\' && header(\'X-GitHub-Event\') == \'push\'"; \'\' clears it' -r
complete -c hookctl -n "__fish_hookctl_using_subcommand edit" -l exec -d 'Script: run this program directly, no shell, instead of a script text (absolute path)' -r
complete -c hookctl -n "__fish_hookctl_using_subcommand edit" -l arg -d 'Script with --exec: one argument from the request, repeatable, in order. REF is payload:NAME, header:NAME, query:NAME, request:method|remote-addr|body, string:TEXT, entire-payload, entire-headers or entire-query; each is one argument, never split' -r
complete -c hookctl -n "__fish_hookctl_using_subcommand edit" -l env-from -d 'Script: set VAR to a request value (REF as for --arg), repeatable; unset when missing' -r
complete -c hookctl -n "__fish_hookctl_using_subcommand edit" -l file-from -d 'Script: write a request value to a 0600 file whose path is in VAR (removed after the run); \',base64\' decodes it first; repeatable; no file when the value is missing' -r
complete -c hookctl -n "__fish_hookctl_using_subcommand edit" -l parse-json -d 'Script: decode this payload field\'s JSON text so payload: paths reach inside, repeatable' -r
complete -c hookctl -n "__fish_hookctl_using_subcommand edit" -l content-type -d 'Incoming: read the body as this content type, whatever the request says' -r
complete -c hookctl -n "__fish_hookctl_using_subcommand edit" -l path -d 'Incoming: also serve the hook at this public path, /hooks/NAME (needs --verify or --allow-ip, else --insecure-path); \'\' removes it' -r
complete -c hookctl -n "__fish_hookctl_using_subcommand edit" -l insecure-path -d 'Incoming: allow --path without --verify or --allow-ip' -r -f -a "true\t''
false\t''"
complete -c hookctl -n "__fish_hookctl_using_subcommand edit" -l node -d 'Script: on a database several nodes share, run only on the node of this node_name (other nodes answer 421); \'\' removes it' -r
complete -c hookctl -n "__fish_hookctl_using_subcommand edit" -l if-mismatch-status -d 'Incoming: the status answered when --if is false (default 200)' -r
complete -c hookctl -n "__fish_hookctl_using_subcommand edit" -l success-status -d 'Script: status of a successful sync answer or an accepted async call (default 200/202)' -r
complete -c hookctl -n "__fish_hookctl_using_subcommand edit" -l response-header -d 'Script: add this header to every answer of a call that passed the checks, repeatable' -r
complete -c hookctl -n "__fish_hookctl_using_subcommand edit" -l response-body -d 'Script: body of the async answer, or of a successful sync one with --output none' -r
complete -c hookctl -n "__fish_hookctl_using_subcommand edit" -l output -d 'Script: answer with plain text: stdout, combined (stdout and stderr in arrival order) or none; a failed run then answers 500 with a generic message unless --error-output' -r
complete -c hookctl -n "__fish_hookctl_using_subcommand edit" -l error-output -d 'Script with --output: answer with the output when the run failed too' -r -f -a "true\t''
false\t''"
complete -c hookctl -n "__fish_hookctl_using_subcommand edit" -l param -d 'Script: HOOKD_PARAM_NAME from a JSON pointer into the body, repeatable' -r
complete -c hookctl -n "__fish_hookctl_using_subcommand edit" -l avatar-url -d 'Message: avatar_url used when a message has none' -r
complete -c hookctl -n "__fish_hookctl_using_subcommand edit" -l event -d 'Outgoing: event pattern to deliver, repeatable (exact name, prefix.*, *)' -r
complete -c hookctl -n "__fish_hookctl_using_subcommand edit" -l type -d 'Outgoing: events (every non-alarm event) or alarms (failures) by default' -r -f -a "events\t''
alarms\t''"
complete -c hookctl -n "__fish_hookctl_using_subcommand edit" -l language -d 'Outgoing: language of the human message text' -r -f -a "en\t''
zh\t''"
complete -c hookctl -n "__fish_hookctl_using_subcommand edit" -l template -d 'Outgoing: JSON payload template file with ${…} placeholders' -r -F
complete -c hookctl -n "__fish_hookctl_using_subcommand edit" -l format -d 'Outgoing: payload format' -r -f -a "default\t''
slack\t''
discord\t''"
complete -c hookctl -n "__fish_hookctl_using_subcommand edit" -l header -d 'Outgoing: extra header, repeatable (the value may be -, @file:PATH or @credential:NAME)' -r
complete -c hookctl -n "__fish_hookctl_using_subcommand edit" -l basic-auth -d 'Outgoing: HTTP basic auth sent to the receiver (or -, @file:PATH, @credential:NAME); script with --verify basic: the credentials callers must send (stored hashed; given inline or as -)' -r
complete -c hookctl -n "__fish_hookctl_using_subcommand edit" -l bearer -d 'Outgoing: bearer token for the receiver (or -, @file:PATH, @credential:NAME)' -r
complete -c hookctl -n "__fish_hookctl_using_subcommand edit" -l rate -d 'Outgoing: at most this many deliveries per period, evenly spaced, e.g. 10/s or 100/m; the rest wait their turn (never dropped)' -r
complete -c hookctl -n "__fish_hookctl_using_subcommand edit" -l include-secret -d 'Outgoing: add "secret" to the payload, for receivers that check it there' -r -f -a "true\t''
false\t''"
complete -c hookctl -n "__fish_hookctl_using_subcommand edit" -l match-hook -d 'Outgoing: only webhook.received events of this hook' -r
complete -c hookctl -n "__fish_hookctl_using_subcommand edit" -l match-method -d 'Outgoing: only webhook.received events with this method' -r
complete -c hookctl -n "__fish_hookctl_using_subcommand edit" -l match-path -d 'Outgoing: only webhook.received events whose path matches this regex' -r
complete -c hookctl -n "__fish_hookctl_using_subcommand edit" -l socket -d 'Control socket of the daemon [default: /run/hookd/hookd.sock as root, else $XDG_RUNTIME_DIR/hookd/hookd.sock]' -r -F
complete -c hookctl -n "__fish_hookctl_using_subcommand edit" -l async -d 'Script: answer 202 with a run id at once and run in the background'
complete -c hookctl -n "__fish_hookctl_using_subcommand edit" -l sync -d 'Script: answer with the script\'s output when it finishes (the default)'
complete -c hookctl -n "__fish_hookctl_using_subcommand edit" -l generate-secret -d 'Outgoing: make a new whsec_ signing secret and print it once'
complete -c hookctl -n "__fish_hookctl_using_subcommand edit" -l json -d 'Print exactly one JSON document (NDJSON lines for `logs -f`)'
complete -c hookctl -n "__fish_hookctl_using_subcommand edit" -l no-color -d 'Never colour output (also when NO_COLOR is set)'
complete -c hookctl -n "__fish_hookctl_using_subcommand edit" -l raw -d 'Print script output and caller data as received, also to a terminal (by default control characters other than newline and tab are shown escaped there, as \\x1b)'
complete -c hookctl -n "__fish_hookctl_using_subcommand edit" -s h -l help -d 'Print help'
complete -c hookctl -n "__fish_hookctl_using_subcommand help; and not __fish_seen_subcommand_from create list show enable disable delete regenerate test logs runs deliveries redeliver apply import export rotate-secret emit status completions edit help" -f -a "create" -d 'Create a hook and print its URL (the token is shown only this once)'
complete -c hookctl -n "__fish_hookctl_using_subcommand help; and not __fish_seen_subcommand_from create list show enable disable delete regenerate test logs runs deliveries redeliver apply import export rotate-secret emit status completions edit help" -f -a "list" -d 'List hooks'
complete -c hookctl -n "__fish_hookctl_using_subcommand help; and not __fish_seen_subcommand_from create list show enable disable delete regenerate test logs runs deliveries redeliver apply import export rotate-secret emit status completions edit help" -f -a "show" -d 'Show one hook in full (never its token or secrets)'
complete -c hookctl -n "__fish_hookctl_using_subcommand help; and not __fish_seen_subcommand_from create list show enable disable delete regenerate test logs runs deliveries redeliver apply import export rotate-secret emit status completions edit help" -f -a "enable" -d 'Enable a hook: its URL answers again'
complete -c hookctl -n "__fish_hookctl_using_subcommand help; and not __fish_seen_subcommand_from create list show enable disable delete regenerate test logs runs deliveries redeliver apply import export rotate-secret emit status completions edit help" -f -a "disable" -d 'Disable a hook: its URL answers 404 until enabled'
complete -c hookctl -n "__fish_hookctl_using_subcommand help; and not __fish_seen_subcommand_from create list show enable disable delete regenerate test logs runs deliveries redeliver apply import export rotate-secret emit status completions edit help" -f -a "delete" -d 'Delete a hook (asks first on a terminal; without one, needs --yes)'
complete -c hookctl -n "__fish_hookctl_using_subcommand help; and not __fish_seen_subcommand_from create list show enable disable delete regenerate test logs runs deliveries redeliver apply import export rotate-secret emit status completions edit help" -f -a "regenerate" -d 'Give a hook a new token; the old URL stops working at once (asks as delete does)'
complete -c hookctl -n "__fish_hookctl_using_subcommand help; and not __fish_seen_subcommand_from create list show enable disable delete regenerate test logs runs deliveries redeliver apply import export rotate-secret emit status completions edit help" -f -a "test" -d 'Call an incoming hook as an HTTP caller would, or send a test event to an outgoing hook'
complete -c hookctl -n "__fish_hookctl_using_subcommand help; and not __fish_seen_subcommand_from create list show enable disable delete regenerate test logs runs deliveries redeliver apply import export rotate-secret emit status completions edit help" -f -a "logs" -d 'Show incoming calls, outgoing attempts and management actions'
complete -c hookctl -n "__fish_hookctl_using_subcommand help; and not __fish_seen_subcommand_from create list show enable disable delete regenerate test logs runs deliveries redeliver apply import export rotate-secret emit status completions edit help" -f -a "runs" -d 'Show script runs, or one run with its output (`runs show ID [--follow]`); wait for, cancel or rerun a run'
complete -c hookctl -n "__fish_hookctl_using_subcommand help; and not __fish_seen_subcommand_from create list show enable disable delete regenerate test logs runs deliveries redeliver apply import export rotate-secret emit status completions edit help" -f -a "deliveries" -d 'Show outgoing deliveries, newest first'
complete -c hookctl -n "__fish_hookctl_using_subcommand help; and not __fish_seen_subcommand_from create list show enable disable delete regenerate test logs runs deliveries redeliver apply import export rotate-secret emit status completions edit help" -f -a "redeliver" -d 'Send a stored delivery again, now, with the same id and webhook-id; with --failed, every failed delivery (of hook NAME) instead'
complete -c hookctl -n "__fish_hookctl_using_subcommand help; and not __fish_seen_subcommand_from create list show enable disable delete regenerate test logs runs deliveries redeliver apply import export rotate-secret emit status completions edit help" -f -a "apply" -d 'Make the hooks match a TOML file of [[hook]] tables (idempotent)'
complete -c hookctl -n "__fish_hookctl_using_subcommand help; and not __fish_seen_subcommand_from create list show enable disable delete regenerate test logs runs deliveries redeliver apply import export rotate-secret emit status completions edit help" -f -a "import" -d 'Create hooks from an adnanh/webhook hooks file (JSON or YAML), idempotently like apply'
complete -c hookctl -n "__fish_hookctl_using_subcommand help; and not __fish_seen_subcommand_from create list show enable disable delete regenerate test logs runs deliveries redeliver apply import export rotate-secret emit status completions edit help" -f -a "export" -d 'Print hooks as a TOML file that `apply` accepts (never tokens)'
complete -c hookctl -n "__fish_hookctl_using_subcommand help; and not __fish_seen_subcommand_from create list show enable disable delete regenerate test logs runs deliveries redeliver apply import export rotate-secret emit status completions edit help" -f -a "rotate-secret" -d 'Give a hook a new secret; the old one stays valid for the overlap (outgoing deliveries are signed with both meanwhile). A hook holds at most two'
complete -c hookctl -n "__fish_hookctl_using_subcommand help; and not __fish_seen_subcommand_from create list show enable disable delete regenerate test logs runs deliveries redeliver apply import export rotate-secret emit status completions edit help" -f -a "emit" -d 'Publish an event of your own to the outgoing hooks that subscribe to it (signed, templated and retried like hookd\'s events); exits 0 once it and its deliveries are on disk'
complete -c hookctl -n "__fish_hookctl_using_subcommand help; and not __fish_seen_subcommand_from create list show enable disable delete regenerate test logs runs deliveries redeliver apply import export rotate-secret emit status completions edit help" -f -a "status" -d 'Show the daemon\'s version, uptime, addresses and load'
complete -c hookctl -n "__fish_hookctl_using_subcommand help; and not __fish_seen_subcommand_from create list show enable disable delete regenerate test logs runs deliveries redeliver apply import export rotate-secret emit status completions edit help" -f -a "completions" -d 'Print shell completions'
complete -c hookctl -n "__fish_hookctl_using_subcommand help; and not __fish_seen_subcommand_from create list show enable disable delete regenerate test logs runs deliveries redeliver apply import export rotate-secret emit status completions edit help" -f -a "edit" -d 'Change options of a hook; options not given stay as they are'
complete -c hookctl -n "__fish_hookctl_using_subcommand help; and not __fish_seen_subcommand_from create list show enable disable delete regenerate test logs runs deliveries redeliver apply import export rotate-secret emit status completions edit help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c hookctl -n "__fish_hookctl_using_subcommand help; and __fish_seen_subcommand_from runs" -f -a "show" -d 'One run with its captured stdout and stderr'
complete -c hookctl -n "__fish_hookctl_using_subcommand help; and __fish_seen_subcommand_from runs" -f -a "wait" -d 'Wait until the run ends and print `run ID STATUS exit CODE` (exit 0 for success, 1 otherwise)'
complete -c hookctl -n "__fish_hookctl_using_subcommand help; and __fish_seen_subcommand_from runs" -f -a "cancel" -d 'Cancel a queued run (it never starts) or a running one (SIGTERM to its process group, SIGKILL after the grace period)'
complete -c hookctl -n "__fish_hookctl_using_subcommand help; and __fish_seen_subcommand_from runs" -f -a "rerun" -d 'Run the hook again with the run\'s stored request (body, method, headers, query)'
