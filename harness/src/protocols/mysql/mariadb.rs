//! A real MariaDB plays the scenario's MySQL server wherever Debian's `mariadb-server` is
//! installed (`--mysql auto`, the default, or `--mysql real`, which insists), so that what
//! a program sends meets a server nobody here wrote; elsewhere the pack's embedded engine
//! plays it, and the report's header says so and why. A test grades the same submissions
//! both ways and compares. MariaDB has no `caching_sha2_password`: under `auto` the
//! embedded engine plays the scenarios whose server offers it; `--mysql real` skips them.
//!
//! Each scenario's peer gets a server of its own, as isolated as the embedded engine:
//!
//! - a data folder made once per run by `mariadb-install-db` (a few seconds) and copied for
//!   each peer;
//! - `mariadbd` in the foreground on that copy, with no TCP port at all
//!   (`--skip-networking`): the pack reaches it on its Unix socket, which no network
//!   namespace hides, and relays the program's bytes to it ([`super::forward`]);
//! - the scenario's database, its user (`'user'@'localhost'`, every right; any name, even
//!   MariaDB's own `root`, whose password is then set and given by the harness's own
//!   statements) and its `setup` statements, made as `root` with the `mariadb` client;
//! - the program's statements run with every right, so the server runs in the sandbox
//!   every program under test runs in (`sandbox-init`, [`sandbox::Enclosure`]), with the
//!   layers this machine allows them (the run's header names them): a user of its own
//!   where the harness is root, its data in its sandbox's folder, the only one it may
//!   write (256 MiB at most), 1 GiB of memory, the system-call filter, the machine's
//!   processes out of sight, an empty network namespace of its own where the scenarios
//!   have them and no internet socket at all where they do not (replication is built in);
//!   and, whatever the sandbox, its file functions (`LOAD_FILE`, `INTO OUTFILE`) reach
//!   only an empty folder of its own (`--secure-file-priv`), no plugin can be loaded
//!   (`--plugin-dir`, an empty folder it may not write), no event runs on its own;
//! - at the end, the judges read the tables with the same client ([`Mariadb::select`]),
//!   each statement stopped after [`STATEMENT_LIMIT`] (a program's SQL may have left a
//!   view that sleeps or a lock held), the client killed after [`CLIENT_LIMIT`];
//! - the server is killed (the process group of the `sandbox-init` it runs under) when
//!   the peer's record goes, on Ctrl-C with every other child of the harness, and when
//!   the harness ends otherwise (killed with SIGKILL) by `sandbox-init`, which watches it
//!   (on a machine without `sandbox-init`, by the kernel's parent-death signal:
//!   [`cleanup::spawn_lasting`]); its folder goes with
//!   the record, at the harness's exit, or at the next run's start
//!   ([`crate::temporary`]).
//!
//! The preparation runs on a thread of its own from the moment the `listen` step starts
//! the peer, so that it overlaps the program's own start; the first connection waits for
//! it.

use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, OnceLock};
use std::time::{Duration, Instant};

use tokio::sync::watch;

use super::MysqlScript;
use crate::settings::{PackChoice, RunSettings};
use crate::world::real::{cleanup, spawning};
use mysql_engine::{SqlError, SqlOutcome, SqlRows};

/// The pack's flag, and its key in a run's choices (`RunSettings::pack_choices`). A run
/// without a choice (the simulated world, a run playing no MySQL server) has the
/// embedded engine play.
const FLAG: &str = "mysql";

/// What a choice is decided to be when a real MariaDB plays.
const REAL: &str = "real";

/// How long a server may take to accept its first connection.
const START_LIMIT: Duration = Duration::from_secs(60);

/// InnoDB's redo log: 4 MiB rather than 96, so that a data folder is 22 MB to copy, not
/// 114 (install and server must agree).
const LOG_FILE_SIZE: &str = "--innodb-log-file-size=4M";

/// The longest path a Unix socket may have (`sun_path` less its final zero).
const MAX_SOCKET_PATH: usize = 107;

/// How long one statement of the harness's own may run on a scenario's server (the
/// judges' look at the tables at the end): a program's SQL may have left a view that
/// sleeps, or a lock held.
const STATEMENT_LIMIT: Duration = Duration::from_secs(10);

/// How long the `mariadb` client may take in all before it is killed.
const CLIENT_LIMIT: Duration = Duration::from_secs(30);

/// The programs a real server needs, found on `PATH` or in `/usr/sbin`, `/usr/bin`.
const PROGRAMS: [&str; 3] = ["mariadb-install-db", "mariadbd", "mariadb"];

/// `--mysql auto|embedded|real`: the run's choice.
pub(super) fn choose(value: &str) -> Result<PackChoice, String> {
    let (real, header) = match value {
        "embedded" => (
            false,
            "the pack's embedded SQL engine (--mysql embedded)".to_string(),
        ),
        // A failure stops the run before any scenario, with MariaDB's own words.
        "real" => {
            ready()?;
            (true, "a real MariaDB per scenario (--mysql real; scenarios of caching_sha2_password, which MariaDB lacks, skipped)".to_string())
        }
        "auto" => match ready() {
            Ok(()) => (true, "a real MariaDB per scenario (the pack's embedded engine for caching_sha2_password, which MariaDB lacks)".to_string()),
            Err(why) => (false, format!("the pack's embedded SQL engine, not a real MariaDB: {why}")),
        },
        other => {
            return Err(format!(
                "`{other}`: the MySQL server is `auto` (a real MariaDB where Debian's mariadb-server is installed, else the pack's engine: the default), `embedded` (the pack's engine) or `real` (a MariaDB, required)"
            ));
        }
    };
    Ok(PackChoice {
        asked: value.to_owned(),
        decided: if real { REAL } else { "embedded" }.to_owned(),
        header: format!("MySQL server: {header}"),
    })
}

/// The programs found and the data folder every server copies made, or why not.
fn ready() -> Result<(), String> {
    for program in PROGRAMS {
        find(program)?;
    }
    let template = template()?;
    // A scenario's server folder is named as the template's, but for `template-`, in the
    // same folder; its socket lies in the sandbox's folder inside it.
    let socket = template.as_os_str().len() - "template-".len() + SOCKET_IN_FOLDER.len();
    if socket > MAX_SOCKET_PATH {
        return Err(format!(
            "its Unix socket's path would be {socket} bytes, more than the {MAX_SOCKET_PATH} a Unix socket's may be: set TMPDIR to a shorter folder (it is {})",
            std::env::temp_dir().display()
        ));
    }
    Ok(())
}

/// The server's socket, in the sandbox's folder (`/harness-sandbox-` and six characters)
/// inside its own.
const SOCKET_IN_FOLDER: &str = "/harness-sandbox-XXXXXX/mysqld.sock";

/// Whether a real MariaDB plays a server offering `auth` in a run with `settings`.
pub(super) fn plays(auth: super::AuthPlugin, settings: &RunSettings) -> bool {
    settings
        .pack_choice(FLAG)
        .is_some_and(|choice| choice.decided == REAL)
        && auth != super::AuthPlugin::CachingSha2Password
}

/// Whether a run with `settings` cannot play a server offering `auth` at all: `--mysql
/// real` (asked by name, not found by `auto`) and `caching_sha2_password`.
pub(super) fn refuses(auth: super::AuthPlugin, settings: &RunSettings) -> bool {
    settings
        .pack_choice(FLAG)
        .is_some_and(|choice| choice.asked == REAL)
        && auth == super::AuthPlugin::CachingSha2Password
}

/// A program of [`PROGRAMS`], or why it is missing.
fn find(program: &str) -> Result<PathBuf, String> {
    let path = std::env::var_os("PATH").unwrap_or_default();
    let package = "mariadb-server mariadb-client";
    std::env::split_paths(&path)
        .chain([PathBuf::from("/usr/sbin"), PathBuf::from("/usr/bin")])
        .map(|dir| dir.join(program))
        .find(|candidate| candidate.is_file())
        .ok_or_else(|| format!("`{program}` is not installed (apt-get install {package})"))
}

/// The data folder `mariadb-install-db` made, once per run, that each server copies.
struct Template {
    /// Removed when the process exits (a static is never dropped).
    dir: crate::temporary::Folder,
}

fn template() -> Result<&'static Path, String> {
    static TEMPLATE: OnceLock<Result<Template, String>> = OnceLock::new();
    TEMPLATE
        .get_or_init(|| {
            let dir = crate::temporary::folder("harness-mariadb-template-")
                .map_err(|error| format!("cannot make a folder for MariaDB: {error}"))?;
            let data = dir.path().join("data");
            let scratch = private_tmpdir(dir.path())?;
            let mut install = Command::new(find("mariadb-install-db")?);
            install
                .arg("--no-defaults")
                .arg(format!("--datadir={}", data.display()))
                .arg(format!("--tmpdir={}", scratch.display()))
                .args([
                    "--skip-test-db",
                    "--skip-name-resolve",
                    "--auth-root-authentication-method=normal",
                    LOG_FILE_SIZE,
                ])
                .args(as_root_user())
                .stdin(Stdio::null());
            // This thread waits for it: it dies with the harness.
            cleanup::dies_with_its_starter(&mut install);
            let output = spawning::output(&mut install)
                .map_err(|error| format!("cannot run mariadb-install-db: {error}"))?;
            if !output.status.success() {
                return Err(format!(
                    "mariadb-install-db failed ({}): {}",
                    output.status,
                    tail(&String::from_utf8_lossy(&output.stderr))
                ));
            }
            Ok(Template { dir })
        })
        .as_ref()
        .map(|template| template.dir.path())
        .map_err(Clone::clone)
}

/// `--user=root` when the harness runs as root (mariadbd refuses root otherwise).
fn as_root_user() -> Vec<&'static str> {
    if rustix::process::geteuid().as_raw() == 0 {
        vec!["--user=root"]
    } else {
        Vec::new()
    }
}

/// The last lines of a log, for an error.
fn tail(text: &str) -> String {
    let lines: Vec<&str> = text.lines().rev().take(6).collect();
    lines.into_iter().rev().collect::<Vec<_>>().join(" | ")
}

/// One scenario's running server, once prepared.
#[derive(Debug)]
pub(super) struct Running {
    /// Its Unix socket.
    pub socket: PathBuf,
    /// The process group of the `sandbox-init` it runs under (or of the server itself,
    /// without one), killed when this goes.
    child: Child,
    group: i32,
    /// Its sandbox: its folder (the data) removed, its cgroup and user let go, when this
    /// goes, after the server is killed; then the folder that holds it.
    _enclosure: sandbox::Enclosure,
    _dir: crate::temporary::Folder,
    /// `root`'s password once the scenario's account is `root` (a client that hard-codes
    /// it): the harness's own statements then give it. `None`: `root` has none.
    root_password: Option<String>,
}

impl Drop for Running {
    fn drop(&mut self) {
        cleanup::kill_group(self.group);
        let _ = self.child.wait();
    }
}

/// One scenario's MariaDB: being prepared, ready, or failed.
#[derive(Debug)]
pub(super) struct Mariadb {
    state: watch::Receiver<Option<Result<Arc<Running>, String>>>,
    /// The first failure of the harness's own client while the judges read the tables
    /// (it could not run, was killed for taking too long, answered what cannot be read):
    /// the scenario is then the harness's trouble, not the program's.
    client_failed: std::sync::Mutex<Option<String>>,
}

impl Mariadb {
    /// Starts preparing a server for `script`, in a run with `settings`, on a thread of
    /// its own.
    pub(super) fn start(script: &MysqlScript, settings: &RunSettings) -> Mariadb {
        let (sender, state) = watch::channel(None);
        let script = script.clone();
        let settings = settings.clone();
        std::thread::spawn(move || {
            let prepared = prepare(&script, &settings).map(Arc::new);
            // Nobody waits any more when the scenario already ended: the server goes.
            let _ = sender.send(Some(prepared));
        });
        Mariadb {
            state,
            client_failed: std::sync::Mutex::new(None),
        }
    }

    /// The server, once prepared (waits for it).
    pub(super) async fn ready(&self) -> Result<Arc<Running>, String> {
        let mut state = self.state.clone();
        let prepared = state
            .wait_for(Option::is_some)
            .await
            .map_err(|_| "the MariaDB preparation thread ended without a word".to_owned())?;
        prepared.clone().expect("waited for Some")
    }

    /// The server if it is prepared by now.
    fn now(&self) -> Result<Arc<Running>, String> {
        match &*self.state.borrow() {
            Some(prepared) => prepared.clone(),
            None => Err("the real MariaDB was still starting".into()),
        }
    }

    /// Why the server is not there, if it is not (it failed to start), or why the
    /// harness could not read its tables.
    pub(super) fn trouble(&self) -> Option<String> {
        match &*self.state.borrow() {
            Some(Err(why)) => Some(format!(
                "the real MariaDB that plays it could not be prepared: {why}"
            )),
            _ => self
                .client_failed
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner)
                .clone()
                .map(|why| format!("the harness could not read the real MariaDB's tables: {why}")),
        }
    }

    /// Runs one statement as `root` in `database` with the `mariadb` client: the judges'
    /// look at the tables at the end.
    pub(super) fn select(&self, database: &str, sql: &str) -> Result<SqlOutcome, SqlError> {
        let running = self.now().map_err(|why| SqlError::new(2002, why))?;
        run_client(&running, Some(database), sql).unwrap_or_else(|why| {
            self.client_failed
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner)
                .get_or_insert_with(|| why.clone());
            Err(SqlError::new(2000, why))
        })
    }

    /// A table's name as MariaDB spells it (names are read without regard to case, as the
    /// embedded engine does).
    fn find_table(&self, database: &str, name: &str) -> Option<String> {
        let Ok(SqlOutcome::Rows(tables)) = self.select(database, "SHOW TABLES") else {
            return None;
        };
        tables
            .rows
            .into_iter()
            .filter_map(|row| row.into_iter().next().flatten())
            .find(|table| table.eq_ignore_ascii_case(name))
    }

    /// Every row of a table (`SELECT *`), with its columns' names even when it is empty.
    pub(super) fn table(&self, database: &str, name: &str) -> Option<SqlRows> {
        let table = self.find_table(database, name)?;
        let Ok(SqlOutcome::Rows(mut rows)) =
            self.select(database, &format!("SELECT * FROM `{table}`"))
        else {
            return None;
        };
        if rows.columns.is_empty() {
            rows.columns = self
                .columns(database, &table)?
                .into_iter()
                .map(|(column, _, _)| column)
                .collect();
            rows.integer = vec![false; rows.columns.len()];
        }
        Some(rows)
    }

    /// A table's columns: name, type, and whether it is the primary key.
    pub(super) fn columns(
        &self,
        database: &str,
        name: &str,
    ) -> Option<Vec<(String, String, bool)>> {
        let table = self.find_table(database, name)?;
        let Ok(SqlOutcome::Rows(described)) =
            self.select(database, &format!("SHOW COLUMNS FROM `{table}`"))
        else {
            return None;
        };
        let at = |column: &str| described.columns.iter().position(|name| name == column);
        let (field, kind, key) = (at("Field")?, at("Type")?, at("Key")?);
        Some(
            described
                .rows
                .iter()
                .map(|row| {
                    let value = |index: usize| row[index].clone().unwrap_or_default();
                    (value(field), value(kind), value(key) == "PRI")
                })
                .collect(),
        )
    }
}

/// The memory a scenario's server and what it forks may use: its own, not the
/// program's `--memory-limit` (a tight cap for a student's client would starve it).
const SERVER_MEMORY: u64 = 1 << 30;

/// Copies the template into a sandbox of the server's own, starts `mariadbd` there on
/// it, waits for its socket, makes the scenario's database, user and tables.
fn prepare(script: &MysqlScript, settings: &RunSettings) -> Result<Running, String> {
    let template = template()?;
    // The program's statements run with every right (a `root` login included): the
    // server runs in the sandbox every program under test runs in, with a user of its
    // own where the harness is root, its own folder the only one it may write (and that
    // capped), its memory capped, the machine's processes out of sight.
    let server_settings = sandbox::Settings {
        layers: Arc::clone(&settings.sandbox.layers),
        memory_limit: SERVER_MEMORY,
    };
    // Its sandbox's folder inside one named after this harness: what a harness killed
    // with SIGKILL leaves (22 MB of data per server) the next run clears
    // ([`crate::temporary::clear_orphans`]).
    let dir = crate::temporary::folder("harness-mariadb-")
        .map_err(|error| format!("cannot make a folder for MariaDB: {error}"))?;
    // Whatever the umask: without a view (Landlock's walls) the server's own user passes
    // through it to its sandbox's folder, and lists nothing.
    std::fs::set_permissions(dir.path(), PermissionsExt::from_mode(0o711))
        .map_err(|error| format!("cannot open MariaDB's folder to its user: {error}"))?;
    // An empty folder of plugins the server may read and not write: no statement can
    // put a library there for `INSTALL SONAME` to load.
    let plugins = dir.path().join("plugins");
    std::fs::create_dir(&plugins)
        .map_err(|error| format!("cannot make a folder for MariaDB: {error}"))?;
    let enclosure = sandbox::Enclosure::new(dir.path(), None, &server_settings)
        .map_err(|error| format!("cannot make MariaDB's sandbox: {error}"))?;
    let work = enclosure.work();
    let copied = spawning::spawn(
        Command::new("cp")
            .arg("-a")
            .arg(template.join("data"))
            .arg(&work),
    )
    .and_then(|mut child| child.wait())
    .map_err(|error| format!("cannot copy MariaDB's data folder: {error}"))?;
    if !copied.success() {
        return Err(format!("copying MariaDB's data folder failed ({copied})"));
    }
    let data = work.join("data");
    // What the server writes beside its data: its pid and its log.
    let run = work.join("run");
    // In its sandbox's folder itself, not deeper: a Unix socket's path holds 107 bytes.
    let socket = enclosure.folder().join("mysqld.sock");
    if socket.as_os_str().len() > MAX_SOCKET_PATH {
        return Err(format!(
            "MariaDB's socket would be {} ({} bytes), longer than a Unix socket's path may be ({MAX_SOCKET_PATH}): set TMPDIR to a shorter folder",
            socket.display(),
            socket.as_os_str().len()
        ));
    }
    let log = run.join("error.log");
    let scratch = private_tmpdir(&work)?;
    let files = work.join("files");
    for folder in [&run, &files] {
        std::fs::create_dir(folder)
            .map_err(|error| format!("cannot make a folder for MariaDB: {error}"))?;
    }
    let mut argv: Vec<std::ffi::OsString> = vec![find("mariadbd")?.into()];
    argv.extend(
        [
            "--no-defaults".to_owned(),
            format!("--datadir={}", data.display()),
            format!("--tmpdir={}", scratch.display()),
            format!("--socket={}", socket.display()),
            // Its file functions (`LOAD_FILE`, `LOAD DATA INFILE`, `SELECT ... INTO
            // OUTFILE`) reach only this empty folder, even where no sandbox walls it.
            format!("--secure-file-priv={}", files.display()),
            // Nor can its statements load a plugin (`INSTALL SONAME`): FederatedX would
            // reach the network, the audit plugin write a log anywhere.
            format!("--plugin-dir={}", plugins.display()),
            format!("--pid-file={}", run.join("mysqld.pid").display()),
            format!("--log-error={}", log.display()),
        ]
        .map(std::ffi::OsString::from),
    );
    argv.extend(
        [
            "--skip-networking",
            "--skip-name-resolve",
            // No statement runs later on its own (`CREATE EVENT`), holding a table locked
            // while the judges look.
            "--event-scheduler=DISABLED",
            "--innodb-buffer-pool-size=16M",
            LOG_FILE_SIZE,
            // Nothing here outlives the scenario: no need to wait for the disk.
            "--innodb-flush-log-at-trx-commit=0",
            "--skip-innodb-doublewrite",
            // The sandbox's system-call filter refuses `io_uring`: plain reads and writes.
            "--innodb-use-native-aio=0",
        ]
        .map(std::ffi::OsString::from),
    );
    // mariadbd refuses to run as root unless told to: only where the sandbox gives it no
    // user of its own (a machine without `sandbox-init`).
    if !enclosure.not_as_root() {
        argv.push("--user=root".into());
    }
    // It listens on its Unix socket only, which no network namespace hides, and needs no
    // other: an empty network namespace of its own where the scenarios have them, and
    // elsewhere no internet socket at all (replication, built in, would otherwise
    // connect wherever a program's `CHANGE MASTER TO` says).
    let own_network = settings.namespace_per_scenario();
    let no_ports = sandbox::TcpPorts::unix_only();
    let mut server = enclosure
        .command(sandbox::Launch {
            argv: &argv,
            workdir: &work,
            writable: &[],
            visible: std::slice::from_ref(&plugins),
            replaced: &[],
            report_fd: None,
            connects_fd: None,
            environment: Vec::new(),
            // InnoDB reserves far more address space than it uses: the memory cap holds it.
            cap_address_space: false,
            tcp_ports: (!own_network).then_some(&no_ports),
            short_calls: None,
        })
        .map_err(|error| format!("cannot hand MariaDB's sandbox to its user: {error}"))?;
    if own_network {
        harness_machine::child_setup::in_an_empty_network(&mut server);
    }
    server
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null());
    // It dies with the harness, even one killed with SIGKILL: `sandbox-init` watches the
    // harness (a pidfd of it) and kills the server when it ends. Without `sandbox-init`,
    // a parent-death signal does, so it is started from a thread that lasts, not this
    // one, which ends once the server is ready (the signal follows the thread). Not
    // both: a `sandbox-init` killed by that signal could not kill what it runs.
    let started = if enclosure.starts_through_init() {
        spawning::spawn(&mut server)
    } else {
        cleanup::spawn_lasting(server)
    };
    let mut child = started.map_err(|error| format!("cannot start mariadbd: {error}"))?;
    let group = child.id() as i32;
    cleanup::register(group);
    let started = Instant::now();
    loop {
        if std::os::unix::net::UnixStream::connect(&socket).is_ok() {
            break;
        }
        let ended = child.try_wait().ok().flatten();
        if ended.is_some() || started.elapsed() > START_LIMIT {
            cleanup::kill_group(group);
            let _ = child.wait();
            let log = std::fs::read_to_string(&log).unwrap_or_default();
            return Err(match ended {
                Some(status) => format!("mariadbd ended ({status}): {}", tail(&log)),
                None => format!(
                    "mariadbd did not accept a connection within {} s: {}",
                    START_LIMIT.as_secs(),
                    tail(&log)
                ),
            });
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    let mut running = Running {
        socket,
        child,
        group,
        _enclosure: enclosure,
        _dir: dir,
        root_password: None,
    };
    let database = format!("CREATE DATABASE `{}`", script.database.replace('`', "``"));
    client(&running, None, &database).map_err(|error| {
        format!(
            "MariaDB refused `{database}`: {} {}",
            error.code, error.message
        )
    })?;
    let account = account_statements(&script.user, &script.password).join(";\n");
    // The account model refuses, when the manifest is read, every login MariaDB cannot
    // make (`crate::protocols::accounts`); `mariadb-account` in the test variable stands
    // for one it could not make all the same.
    crate::temporary::failed_on_purpose("mariadb-account")
        .map_err(|error| error.to_string())
        .and_then(|()| {
            client(&running, None, &account)
                .map_err(|error| format!("{} {}", error.code, error.message))
        })
        .map_err(|why| {
            format!(
                "MariaDB could not make the account '{}'@'localhost': {why}",
                script.user
            )
        })?;
    if script.user == "root" {
        running.root_password = Some(script.password.clone());
    }
    for statement in &script.setup {
        client(&running, Some(&script.database), statement).map_err(|error| {
            format!(
                "MariaDB refused the scenario's `mysql.setup` statement `{statement}`: {} {}",
                error.code, error.message
            )
        })?;
    }
    Ok(running)
}

/// The statements, run as `root` in one session, that make `user` an account of every
/// right with `password`, whatever the name: MariaDB's own `root` exists (`CREATE USER`
/// of it is 1396), so an account is made only if missing, then given its rights, then its
/// password, last, since it may be the very `root` the session runs as.
fn account_statements(user: &str, password: &str) -> [String; 3] {
    let account = format!("'{}'@'localhost'", escape(user));
    [
        format!("CREATE USER IF NOT EXISTS {account}"),
        format!("GRANT ALL PRIVILEGES ON *.* TO {account}"),
        format!(
            "ALTER USER {account} IDENTIFIED VIA mysql_native_password USING PASSWORD('{}')",
            escape(password)
        ),
    ]
}

/// A string inside single quotes of SQL.
fn escape(text: &str) -> String {
    text.replace('\\', "\\\\").replace('\'', "\\'")
}

/// Runs `sql` with the `mariadb` client as `root` on `server`'s socket: a result set, or
/// the rows it changed (`ROW_COUNT()`), or MariaDB's error; the harness's own failure as
/// an error of that code.
fn client(server: &Running, database: Option<&str>, sql: &str) -> Result<SqlOutcome, SqlError> {
    run_client(server, database, sql).unwrap_or_else(|why| Err(SqlError::new(2000, why)))
}

/// [`client`], the harness's own failure apart (`Err`: the client could not run, was
/// killed for taking too long, or answered what cannot be read): what MariaDB answered
/// is `Ok`, its errors included.
fn run_client(
    server: &Running,
    database: Option<&str>,
    sql: &str,
) -> Result<Result<SqlOutcome, SqlError>, String> {
    let program = find("mariadb")?;
    let mut command = Command::new(program);
    command
        .arg("--no-defaults")
        .arg(format!("--socket={}", server.socket.display()))
        .args(["--user=root", "--batch", "--xml"]);
    // Read from the environment, not from a command line anyone may list.
    if let Some(password) = &server.root_password {
        command.env("MYSQL_PWD", password);
    }
    if let Some(database) = database {
        command.arg(format!("--database={database}"));
    }
    // The statement, then the rows it changed, in one session, neither waiting long for
    // a lock nor running long (a program's SQL may have left a view that sleeps).
    let script = format!(
        "SET SESSION max_statement_time = {limit}, lock_wait_timeout = {limit};\n{};\nSELECT ROW_COUNT() AS harness_row_count;\n",
        sql.trim().trim_end_matches(';'),
        limit = STATEMENT_LIMIT.as_secs()
    );
    command.arg("--execute").arg(script);
    let output = output_within(command.stdin(Stdio::null()), CLIENT_LIMIT)
        .map_err(|error| format!("the mariadb client: {error}"))?;
    if !output.status.success() {
        let stderr = String::from_utf8_lossy(&output.stderr);
        // MariaDB's own error (`ERROR 1146 ...`), or the client's that names the server
        // (`ERROR 2002 ... Can't connect`: a server a program's SQL stopped); anything
        // else (a client killed by a signal) is the harness's.
        if !stderr.lines().any(|line| line.starts_with("ERROR")) {
            return Err(format!(
                "the mariadb client ended ({}) saying: {}",
                output.status,
                tail(&stderr)
            ));
        }
        return Ok(Err(client_error(&stderr)));
    }
    let mut results = parse_xml(&String::from_utf8_lossy(&output.stdout))?;
    let affected = results
        .pop()
        .and_then(|count| count.rows.first().cloned())
        .and_then(|row| row.first().cloned().flatten())
        .and_then(|count| count.parse::<i64>().ok())
        .unwrap_or(0);
    // ROW_COUNT() is -1 after a statement that returned rows.
    Ok(Ok(match results.pop() {
        Some(rows) if affected < 0 => SqlOutcome::Rows(rows),
        _ => SqlOutcome::Done {
            affected: affected.max(0) as u64,
        },
    }))
}

/// `command`'s output, or an error if it cannot start or has not ended within `limit`
/// (then it is killed and reaped).
fn output_within(command: &mut Command, limit: Duration) -> std::io::Result<std::process::Output> {
    use std::io::Read;
    let mut child = spawning::spawn(command.stdout(Stdio::piped()).stderr(Stdio::piped()))?;
    // Each pipe read to its end on a thread of its own, so that neither fills while the
    // other is read; the child stays here, unreaped until it is waited for below.
    let readers = [
        child
            .stdout
            .take()
            .map(|pipe| Box::new(pipe) as Box<dyn Read + Send>),
        child
            .stderr
            .take()
            .map(|pipe| Box::new(pipe) as Box<dyn Read + Send>),
    ]
    .map(|pipe| {
        std::thread::Builder::new()
            .name("mariadb-client".into())
            .spawn(move || {
                let mut bytes = Vec::new();
                if let Some(mut pipe) = pipe {
                    let _ = pipe.read_to_end(&mut bytes);
                }
                bytes
            })
    });
    let started = Instant::now();
    let mut pause = Duration::from_millis(1);
    let status = loop {
        if let Some(status) = child.try_wait()? {
            break Ok(status);
        }
        if started.elapsed() > limit {
            let _ = child.kill();
            let _ = child.wait();
            break Err(std::io::Error::new(
                std::io::ErrorKind::TimedOut,
                format!("no answer within {} s: killed", limit.as_secs()),
            ));
        }
        std::thread::sleep(pause);
        pause = (pause * 2).min(Duration::from_millis(20));
    };
    let [stdout, stderr] = readers.map(|reader| {
        reader
            .map_err(|error| std::io::Error::other(format!("cannot read its output: {error}")))
            .and_then(|thread| {
                thread
                    .join()
                    .map_err(|_| std::io::Error::other("its output's reader panicked"))
            })
    });
    Ok(std::process::Output {
        status: status?,
        stdout: stdout?,
        stderr: stderr?,
    })
}

/// `ERROR 1146 (42S02) at line 1: Table 'school.x' doesn't exist`.
fn client_error(stderr: &str) -> SqlError {
    let line = stderr
        .lines()
        .find(|line| line.starts_with("ERROR"))
        .unwrap_or(stderr);
    let code = line
        .strip_prefix("ERROR ")
        .and_then(|rest| rest.split_whitespace().next())
        .and_then(|code| code.parse().ok())
        .unwrap_or(2000);
    let message = line
        .split_once(": ")
        .map_or(line, |(_, message)| message)
        .trim()
        .to_owned();
    SqlError::new(code, message)
}

/// The result sets of `mariadb --xml`, one XML document each (a statement that returns
/// no rows prints none): `<resultset statement="..."><row><field name="id">1</field>
/// <field name="city" xsi:nil="true" /></row></resultset>`. An empty result set has no
/// `row`, so no column names.
fn parse_xml(text: &str) -> Result<Vec<SqlRows>, String> {
    let mut results = Vec::new();
    for document in text.split("<?xml").filter(|part| !part.trim().is_empty()) {
        let document = format!("<?xml{document}");
        let document = roxmltree::Document::parse(&document)
            .map_err(|error| format!("the mariadb client's XML cannot be read: {error}"))?;
        let set = document.root_element();
        let mut rows = SqlRows::default();
        for (index, row) in set
            .children()
            .filter(|node| node.has_tag_name("row"))
            .enumerate()
        {
            let mut values = Vec::new();
            for field in row.children().filter(|node| node.has_tag_name("field")) {
                if index == 0 {
                    rows.columns
                        .push(field.attribute("name").unwrap_or_default().to_owned());
                    rows.integer.push(false);
                }
                let null = field
                    .attributes()
                    .any(|attribute| attribute.name() == "nil" && attribute.value() == "true");
                values.push((!null).then(|| field.text().unwrap_or_default().to_owned()));
            }
            rows.rows.push(values);
        }
        results.push(rows);
    }
    Ok(results)
}

/// A temp folder of MariaDB's own inside `folder`: servers of several harness runs at once
/// sharing /tmp were seen to trip on each other's temporary tables while bootstrapping
/// ("Could not remove temporary table").
fn private_tmpdir(folder: &Path) -> Result<PathBuf, String> {
    let scratch = folder.join("tmp");
    std::fs::create_dir_all(&scratch)
        .map_err(|error| format!("cannot make MariaDB's temp folder: {error}"))?;
    Ok(scratch)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_clients_xml_gives_columns_rows_and_nulls() {
        let text = r#"<?xml version="1.0"?>

<resultset statement="SELECT * FROM people" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">
  <row>
	<field name="id">1</field>
	<field name="city">Xi'an &amp; Cork</field>
  </row>
  <row>
	<field name="id">2</field>
	<field name="city" xsi:nil="true" />
  </row>
</resultset>
<?xml version="1.0"?>

<resultset statement="SELECT ROW_COUNT()" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">
  <row>
	<field name="harness_row_count">-1</field>
  </row>
</resultset>
"#;
        let results = parse_xml(text).unwrap();
        assert_eq!(results.len(), 2);
        assert_eq!(results[0].columns, ["id", "city"]);
        assert_eq!(
            results[0].rows,
            [
                vec![Some("1".to_owned()), Some("Xi'an & Cork".to_owned())],
                vec![Some("2".to_owned()), None]
            ]
        );
    }

    /// A real MariaDB for `user` and `password`, prepared, with a table `t` in `school`;
    /// or why not.
    fn prepared(user: &str, password: &str) -> (Mariadb, Result<Arc<Running>, String>) {
        let script = MysqlScript {
            user: user.into(),
            password: password.into(),
            database: "school".into(),
            auth: super::super::AuthPlugin::default(),
            setup: vec!["CREATE TABLE t (a INT PRIMARY KEY)".into()],
        };
        let mariadb = Mariadb::start(&script, &RunSettings::machine_defaults());
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("a runtime");
        let ready = runtime.block_on(mariadb.ready());
        (mariadb, ready)
    }

    /// Whether `user` logs in to `server` with `password`, as a program would.
    fn logs_in(server: &Running, user: &str, password: &str) -> bool {
        let mut command = Command::new(find("mariadb").expect("the mariadb client"));
        command
            .arg("--no-defaults")
            .arg(format!("--socket={}", server.socket.display()))
            .arg(format!("--user={user}"))
            .args(["--database=school", "--execute", "SELECT 1"])
            .env("MYSQL_PWD", password)
            .stdin(Stdio::null());
        spawning::output(&mut command)
            .expect("the mariadb client runs")
            .status
            .success()
    }

    #[test]
    fn any_declared_login_is_an_account_of_the_real_server_root_included() {
        for (user, password) in [
            ("root", "root"),
            ("student", "student"),
            ("my name", "it's \\ hers"),
        ] {
            let (mariadb, ready) = prepared(user, password);
            let server = ready.unwrap_or_else(|why| {
                panic!(
                    "this test needs MariaDB (apt-get install mariadb-server mariadb-client; .ci/test installs it): {why}"
                )
            });
            assert!(logs_in(&server, user, password), "{user}");
            assert!(!logs_in(&server, user, "wrong"), "{user}");
            // The harness's own statements still run, as `root` whatever its password.
            assert!(mariadb.table("school", "t").is_some(), "{user}");
        }
    }

    #[test]
    fn a_login_with_every_right_reaches_no_file_outside_the_servers_folder() {
        // `root`: the login with the most rights a program may hard-code.
        let (_mariadb, ready) = prepared("root", "root");
        let server = ready
            .unwrap_or_else(|why| panic!("this test needs MariaDB (.ci/test installs it): {why}"));
        // Readable by anyone, as the kit's own files are: only the server's setting keeps
        // it out.
        let outside = tempfile::tempdir().unwrap();
        let readable = std::os::unix::fs::PermissionsExt::from_mode(0o755);
        std::fs::set_permissions(outside.path(), readable).unwrap();
        let secret = outside.path().join("expected-answers.txt");
        std::fs::write(&secret, "the kit's secret\n").unwrap();
        let read = client(
            &server,
            None,
            &format!("SELECT LOAD_FILE('{}') AS secret", secret.display()),
        );
        match read {
            Ok(SqlOutcome::Rows(rows)) => assert_eq!(rows.rows, [[None]], "read the file"),
            other => panic!("LOAD_FILE answered {other:?}"),
        }
        let written = outside.path().join("planted");
        let write = client(
            &server,
            None,
            &format!("SELECT 'planted' INTO OUTFILE '{}'", written.display()),
        );
        assert_eq!(
            write.err().map(|error| error.code),
            Some(1290),
            "--secure-file-priv"
        );
        assert!(!written.exists());
        // The same statement into the server's own folder works: the refusal above is the
        // setting's, not a server that can write nothing.
        let own = server.socket.parent().unwrap().join("work/files/own");
        client(
            &server,
            None,
            &format!("SELECT 'its own' INTO OUTFILE '{}'", own.display()),
        )
        .unwrap();
        assert_eq!(std::fs::read_to_string(&own).unwrap(), "its own\n");
        // No plugin of the machine's can be loaded (FederatedX would reach the network).
        let plugin = client(&server, None, "INSTALL SONAME 'ha_federatedx'");
        assert!(plugin.is_err(), "{plugin:?}");
        // The server runs in the sandbox: with a view of its own (here, as in CI), what
        // its `root` login makes it write (a general log put anywhere) stays in its
        // folder, a folder outside that anyone may write out of its reach all the same;
        // and under a root harness it runs as a user of its own (what it writes is not
        // root's). (Without a view, Landlock's walls hold the same: the container tests.)
        if sandbox::layers().allows(sandbox::Layer::View).is_err() {
            return;
        }
        if rustix::process::geteuid().is_root() {
            let owner = std::os::unix::fs::MetadataExt::uid(&std::fs::metadata(&own).unwrap());
            assert_ne!(owner, 0, "mariadbd wrote as root");
        }
        let open = outside.path().join("open");
        std::fs::create_dir(&open).unwrap();
        std::fs::set_permissions(&open, PermissionsExt::from_mode(0o777)).unwrap();
        let log = open.join("planted.log");
        let set = format!("SET GLOBAL general_log_file = '{}'", log.display());
        let refused = client(&server, None, &set);
        assert_eq!(refused.err().map(|error| error.code), Some(1231), "{set}");
        for statement in ["SET GLOBAL general_log = 1", "SELECT 'logged'"] {
            let _ = client(&server, None, statement);
        }
        assert!(
            !log.exists(),
            "the general log was written outside its folder"
        );
        // A statement of the harness's own that a program's SQL makes wait (a view that
        // sleeps) ends within its limit rather than hold the scenario.
        let slow = "CREATE VIEW slow AS SELECT SLEEP(3600) AS s";
        client(&server, Some("school"), slow).unwrap();
        let started = Instant::now();
        let _ = client(&server, Some("school"), "SELECT * FROM slow");
        assert!(started.elapsed() < CLIENT_LIMIT, "{:?}", started.elapsed());
    }

    #[test]
    fn a_client_that_does_not_end_in_time_is_killed_and_said_so() {
        let started = Instant::now();
        let mut sleeping = Command::new("sleep");
        sleeping.arg("600");
        let error = output_within(&mut sleeping, Duration::from_millis(200)).unwrap_err();
        assert_eq!(error.kind(), std::io::ErrorKind::TimedOut, "{error}");
        // Killed and reaped, its pipes' readers ended: not the 600 s it asked for.
        assert!(started.elapsed() < Duration::from_secs(60));
        let mut quick = Command::new("printf");
        quick.arg("out");
        let output = output_within(&mut quick, Duration::from_secs(60)).unwrap();
        assert_eq!(output.stdout, b"out");
    }

    #[test]
    fn a_client_error_keeps_the_servers_code_and_words() {
        let error =
            client_error("ERROR 1146 (42S02) at line 1: Table 'school.nothing' doesn't exist\n");
        assert_eq!(error.code, 1146);
        assert_eq!(error.message, "Table 'school.nothing' doesn't exist");
    }
}
