import GRDB

/// The profile database schema. Migrations are never edited once merged; add new ones.
enum Schema {
    /// `PRAGMA application_id` of modnas profile databases ("MODN").
    static let applicationID: Int32 = 0x4D4F_444E

    static var migrator: DatabaseMigrator {
        var migrator = DatabaseMigrator()
        migrator.registerMigration("v1") { db in
            try db.execute(sql: "PRAGMA application_id = \(applicationID)")
            try db.execute(sql: """
                CREATE TABLE device (
                    id INTEGER PRIMARY KEY,
                    name TEXT NOT NULL UNIQUE,
                    source TEXT NOT NULL CHECK (source IN ('measured', 'benchmark')),
                    fingerprint TEXT,
                    createdAt DATETIME NOT NULL);
                CREATE TABLE architecture (
                    id INTEGER PRIMARY KEY,
                    space TEXT NOT NULL,
                    archIndex INTEGER,
                    archString TEXT NOT NULL,
                    UNIQUE (space, archString));
                CREATE TABLE session (
                    id INTEGER PRIMARY KEY,
                    uuid TEXT NOT NULL UNIQUE,
                    deviceId INTEGER NOT NULL REFERENCES device(id) ON DELETE CASCADE,
                    kind TEXT NOT NULL CHECK (kind IN ('measured', 'benchmark')),
                    space TEXT NOT NULL,
                    configKey TEXT NOT NULL,
                    configuration TEXT NOT NULL,
                    batch INTEGER, threads INTEGER, repeats INTEGER, warmup INTEGER,
                    channels INTEGER, cells INTEGER, resolution INTEGER,
                    events TEXT, energyMode TEXT, host TEXT,
                    startedAt DATETIME NOT NULL);
                CREATE INDEX session_device_config ON session(deviceId, configKey);
                CREATE TABLE measurement (
                    id INTEGER PRIMARY KEY,
                    sessionId INTEGER NOT NULL REFERENCES session(id) ON DELETE CASCADE,
                    architectureId INTEGER NOT NULL REFERENCES architecture(id),
                    role TEXT NOT NULL,
                    label TEXT NOT NULL CHECK (label IN ('measured', 'benchmark')),
                    repetitionsMs TEXT,
                    repetitionCount INTEGER,
                    medianMs REAL NOT NULL CHECK (medianMs > 0),
                    meanMs REAL, p10Ms REAL, p90Ms REAL, madMs REAL, cv REAL, minMs REAL,
                    attempts INTEGER NOT NULL DEFAULT 1,
                    rounds INTEGER NOT NULL DEFAULT 1,
                    unstable BOOLEAN NOT NULL DEFAULT 0,
                    measuredAt DATETIME,
                    UNIQUE (sessionId, architectureId));
                CREATE TABLE counterValue (
                    measurementId INTEGER NOT NULL REFERENCES measurement(id) ON DELETE CASCADE,
                    event TEXT NOT NULL,
                    perInference REAL, total REAL, passes INTEGER,
                    timeEnabledNs INTEGER, timeRunningNs INTEGER, scaled BOOLEAN,
                    absentReason TEXT,
                    PRIMARY KEY (measurementId, event),
                    CHECK ((perInference IS NULL) <> (absentReason IS NULL)));
                CREATE TABLE energy (
                    measurementId INTEGER PRIMARY KEY REFERENCES measurement(id) ON DELETE CASCADE,
                    joulesPerInference REAL,
                    source TEXT NOT NULL,
                    domains TEXT, windowMs REAL, passes INTEGER,
                    absentReason TEXT,
                    CHECK ((joulesPerInference IS NULL) <> (absentReason IS NULL)));
                CREATE TABLE sessionEvent (
                    sessionId INTEGER NOT NULL REFERENCES session(id) ON DELETE CASCADE,
                    event TEXT NOT NULL,
                    supported BOOLEAN NOT NULL,
                    privilege TEXT, reason TEXT, encoding TEXT,
                    PRIMARY KEY (sessionId, event));
                """)
        }
        // Repetitions as typed rows, one per timed pass, instead of a JSON array in the measurement.
        migrator.registerMigration("v2-repetition-rows") { db in
            try db.execute(sql: """
                CREATE TABLE repetition (
                    measurementId INTEGER NOT NULL REFERENCES measurement(id) ON DELETE CASCADE,
                    ordinal INTEGER NOT NULL,
                    ms REAL NOT NULL CHECK (ms >= 0),
                    PRIMARY KEY (measurementId, ordinal)) WITHOUT ROWID;
                INSERT INTO repetition (measurementId, ordinal, ms)
                    SELECT m.id, j.key, j.value FROM measurement m, json_each(m.repetitionsMs) j
                    WHERE m.repetitionsMs IS NOT NULL;
                ALTER TABLE measurement DROP COLUMN repetitionsMs;
                """)
        }
        // The measuring thread's CPU time per repetition beside its wall time, with statistics;
        // rows stored before have none, and say why.
        migrator.registerMigration("v3-cpu-time") { db in
            try db.execute(sql: """
                ALTER TABLE repetition ADD COLUMN cpuMs REAL CHECK (cpuMs IS NULL OR cpuMs >= 0);
                ALTER TABLE measurement ADD COLUMN cpuMedianMs REAL;
                ALTER TABLE measurement ADD COLUMN cpuMeanMs REAL;
                ALTER TABLE measurement ADD COLUMN cpuP10Ms REAL;
                ALTER TABLE measurement ADD COLUMN cpuP90Ms REAL;
                ALTER TABLE measurement ADD COLUMN cpuCv REAL;
                ALTER TABLE measurement ADD COLUMN cpuAbsentReason TEXT;
                UPDATE measurement SET cpuAbsentReason = CASE label
                    WHEN 'benchmark' THEN '\(CPUTime.benchmarkReason)'
                    ELSE '\(CPUTime.olderSchemaReason)' END;
                """)
        }
        // The session's own repeatability check (JSON of `Repeatability`).
        migrator.registerMigration("v4-repeatability") { db in
            try db.execute(sql: "ALTER TABLE session ADD COLUMN repeatability TEXT")
        }
        // Which clock the session's latency is read from; steal time and involuntary context
        // switches over each measurement's timed windows (rows stored before have none, and say why).
        migrator.registerMigration("v5-latency-clock-host-noise") { db in
            try db.execute(sql: """
                ALTER TABLE session ADD COLUMN latencyClock TEXT NOT NULL DEFAULT 'wall' CHECK (latencyClock IN ('wall', 'cpu'));
                ALTER TABLE measurement ADD COLUMN stealMs REAL CHECK (stealMs IS NULL OR stealMs >= 0);
                ALTER TABLE measurement ADD COLUMN stealAbsentReason TEXT;
                ALTER TABLE measurement ADD COLUMN involuntarySwitches INTEGER CHECK (involuntarySwitches IS NULL OR involuntarySwitches >= 0);
                ALTER TABLE measurement ADD COLUMN switchesAbsentReason TEXT;
                UPDATE measurement SET stealAbsentReason = CASE label
                    WHEN 'benchmark' THEN '\(HostNoiseAbsence.benchmarkReason)' ELSE '\(HostNoiseAbsence.olderSchemaReason)' END,
                    switchesAbsentReason = CASE label
                    WHEN 'benchmark' THEN '\(HostNoiseAbsence.benchmarkReason)' ELSE '\(HostNoiseAbsence.olderSchemaReason)' END;
                """)
        }
        // The session's network shape as named parameters (`NetworkShape`'s text) for every space,
        // in place of NB201's channels, cells and resolution columns (their values move into it;
        // a session of another space takes the shape its configuration recorded).
        migrator.registerMigration("v6-network-shape") { db in
            try db.execute(sql: """
                ALTER TABLE session ADD COLUMN networkShape TEXT;
                UPDATE session SET networkShape = CASE
                    WHEN channels IS NOT NULL AND cells IS NOT NULL AND resolution IS NOT NULL
                        THEN 'cells=' || cells || ',channels=' || channels || ',resolution=' || resolution
                    WHEN json_valid(configuration) THEN NULLIF(json_extract(configuration, '$.networkShape'), '')
                    END;
                ALTER TABLE session DROP COLUMN channels;
                ALTER TABLE session DROP COLUMN cells;
                ALTER TABLE session DROP COLUMN resolution;
                """)
        }
        return migrator
    }
}
