// llhttp 8.1 as Debian's node-llhttp ships it: /usr/share/llhttp/llhttp.c, compiled here (its own
// translation unit, as upstream builds it). No parser source lives in this repository.
#if !__has_include("/usr/share/llhttp/llhttp.c")
#error "llhttp is missing: run scripts/setup.sh (installs Debian's node-llhttp)"
#endif
// Strict mode: the checks NIO's own llhttp (9.x, where they are no longer optional) applies,
// such as refusing bytes after a request that said `Connection: close`.
#define LLHTTP_STRICT_MODE 1
#include "/usr/share/llhttp/llhttp.c"
