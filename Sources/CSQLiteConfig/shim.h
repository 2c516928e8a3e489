// sqlite3_config is variadic, which Swift cannot call: this wrapper enables URI file names
// process-wide (GRDB opens without SQLITE_OPEN_URI), so that a database on read-only media can
// be opened as `file:PATH?immutable=1`. Effective only before SQLite's first connection.
#include <sqlite3.h>

static inline int modnas_sqlite_enable_uri_filenames(void) {
    return sqlite3_config(SQLITE_CONFIG_URI, 1);
}
