//! `mysql-remote` against a MySQL server nobody here wrote: MariaDB (Debian's
//! `mariadb-server`), its data folder made by `mariadb-install-db` in a temp folder,
//! `mariadbd` started in the foreground by the test on a loopback port and a socket of its
//! own, stopped by its pid. The test makes the database and the account over the socket
//! (as root, by socket authentication), runs the reference, and reads the rows back with
//! the `mariadb` client (SPEC sql/1–3).

use crate::common;

use std::path::PathBuf;
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

use assert_cmd::cargo::cargo_bin;

use common::{Running, free_tcp_port};

const PASSWORD: &str = "s3cret-sql";

/// A throw-away MariaDB server; killed (by pid) and waited for when dropped.
struct Mariadb {
    port: u16,
    socket: PathBuf,
    folder: tempfile::TempDir,
    _server: Running,
}

impl Mariadb {
    fn start() -> Mariadb {
        let folder = tempfile::tempdir().unwrap();
        let data = folder.path().join("data");
        // A temp folder of its own: two servers bootstrapping at once in /tmp were seen to
        // trip on each other's temporary tables ("Could not remove temporary table").
        let scratch = folder.path().join("tmp");
        std::fs::create_dir(&scratch).unwrap();
        let installed = Command::new("mariadb-install-db")
            .args(["--no-defaults", "--user=root", "--skip-test-db"])
            .arg(format!("--datadir={}", data.display()))
            .arg(format!("--tmpdir={}", scratch.display()))
            .arg("--auth-root-authentication-method=socket")
            .stdout(Stdio::null())
            .output()
            .unwrap_or_else(|error| {
                panic!("cannot run mariadb-install-db ({error}): install mariadb-server")
            });
        assert!(
            installed.status.success(),
            "mariadb-install-db: {}",
            String::from_utf8_lossy(&installed.stderr)
        );
        let port = free_tcp_port();
        let socket = folder.path().join("mysqld.sock");
        let path = |name: &str| folder.path().join(name).display().to_string();
        let child = Command::new("/usr/sbin/mariadbd")
            .args(["--no-defaults", "--user=root", "--bind-address=127.0.0.1"])
            .arg(format!("--datadir={}", data.display()))
            .arg(format!("--tmpdir={}", scratch.display()))
            .arg(format!("--port={port}"))
            .arg(format!("--socket={}", socket.display()))
            .arg(format!("--pid-file={}", path("mysqld.pid")))
            .arg(format!("--log-error={}", path("error.log")))
            .args(["--innodb-buffer-pool-size=32M", "--skip-name-resolve"])
            .arg("--general-log=1")
            .arg(format!("--general-log-file={}", path("general.log")))
            .stdin(Stdio::null())
            .spawn()
            .unwrap_or_else(|error| {
                panic!("cannot run /usr/sbin/mariadbd ({error}): install mariadb-server")
            });
        let mut server = Running(child);
        // MariaDB takes a second or two to open its files: polled, bounded.
        let deadline = Instant::now() + Duration::from_secs(30);
        while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(
                server.is_running(),
                "mariadbd ended: {}",
                std::fs::read_to_string(path("error.log")).unwrap_or_default()
            );
            assert!(
                Instant::now() < deadline,
                "mariadbd never listened on port {port}"
            );
            std::thread::sleep(Duration::from_millis(50));
        }
        let db = Mariadb {
            port,
            socket,
            folder,
            _server: server,
        };
        db.client(&[], &format!(
            "CREATE DATABASE school; CREATE USER 'alice'@'127.0.0.1' IDENTIFIED BY '{PASSWORD}'; \
             GRANT ALL ON school.* TO 'alice'@'127.0.0.1'"
        ));
        db
    }

    /// Runs statements in the database `school` (see [`Mariadb::client`]).
    fn sql(&self, statements: &str) -> String {
        self.client(&["school"], statements)
    }

    /// Runs statements as root over the socket with the `mariadb` client (`database`: the
    /// database to use, if any); its output in batch mode (tab-separated, no column names).
    fn client(&self, database: &[&str], statements: &str) -> String {
        let output = Command::new("mariadb")
            .args(["--no-defaults", "-u", "root", "-N", "-B"])
            .arg(format!("--socket={}", self.socket.display()))
            .args(database)
            .args(["-e", statements])
            .output()
            .unwrap_or_else(|error| panic!("cannot run mariadb ({error}): install mariadb-client"));
        assert!(
            output.status.success(),
            "mariadb -e {statements:?}: {}",
            String::from_utf8_lossy(&output.stderr)
        );
        String::from_utf8(output.stdout).unwrap()
    }

    fn url(&self, password: &str) -> String {
        format!("mysql://alice:{password}@127.0.0.1:{}/school", self.port)
    }

    /// The statements the server received (its general log), for a failing assertion.
    fn log(&self) -> String {
        std::fs::read_to_string(self.folder.path().join("general.log")).unwrap_or_default()
    }
}

fn mysql_remote(url: &str, args: &[&str]) -> Output {
    Command::new(cargo_bin("mysql-remote"))
        .args(["--url", url])
        .args(args)
        .output()
        .unwrap()
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

#[test]
fn students_are_set_up_once_in_one_transaction_and_statements_run_and_commit() {
    let db = Mariadb::start();
    let url = db.url(PASSWORD);
    let first = mysql_remote(&url, &["--setup-students"]);
    assert!(
        first.status.success(),
        "{}\n{}",
        text(&first.stderr),
        db.log()
    );
    assert_eq!(
        db.sql("SELECT roll_no, name, semester, programme FROM students ORDER BY roll_no"),
        "101\tAarav Sharma\t8\tBTech\n102\tMaria D'Souza\t8\tBTech\n103\tIshita Verma\t8\tBTech\n\
         104\tRohan Nair\t8\tBTech\n105\tZoya Khan\t8\tBTech\n"
    );
    assert_eq!(db.sql("SELECT COLUMN_KEY FROM information_schema.COLUMNS WHERE TABLE_NAME = 'students' AND COLUMN_NAME = 'roll_no'"), "PRI\n");
    // The rows went as bound parameters (COM_STMT_PREPARE / EXECUTE), in one transaction.
    let log = db.log();
    assert!(log.contains("Prepare\tINSERT INTO students"), "{log}");
    assert!(
        log.contains("START TRANSACTION") && log.contains("COMMIT"),
        "{log}"
    );

    let second = mysql_remote(&url, &["--setup-students"]);
    assert_eq!(second.status.code(), Some(1), "{}", text(&second.stdout));
    assert!(
        text(&second.stderr).contains("Duplicate entry '101'"),
        "{}",
        text(&second.stderr)
    );
    assert_eq!(
        db.sql("SELECT COUNT(*) FROM students"),
        "5\n",
        "a second run changes nothing"
    );

    let select = mysql_remote(
        &url,
        &[
            "--execute",
            "SELECT roll_no, name, NULL AS mentor FROM students WHERE roll_no <= 102 ORDER BY roll_no",
        ],
    );
    assert!(select.status.success(), "{}", text(&select.stderr));
    assert_eq!(
        text(&select.stdout),
        "roll_no\tname\tmentor\n101\tAarav Sharma\tNULL\n102\tMaria D'Souza\tNULL\n"
    );
    let empty = mysql_remote(
        &url,
        &["--execute", "SELECT name FROM students WHERE roll_no > 900"],
    );
    assert_eq!(text(&empty.stdout), "name\n");

    let update = mysql_remote(
        &url,
        &[
            "--execute",
            "UPDATE students SET semester = 7 WHERE roll_no >= 104",
        ],
    );
    assert!(update.status.success(), "{}", text(&update.stderr));
    assert_eq!(text(&update.stdout), "2 row(s) affected\n");
    assert_eq!(
        db.sql("SELECT COUNT(*) FROM students WHERE semester = 7"),
        "2\n",
        "committed"
    );
}

#[test]
fn a_refused_login_and_sql_errors_print_the_server_message_and_exit_1() {
    let db = Mariadb::start();
    let refused = mysql_remote(&db.url("wrong-password"), &["--execute", "SELECT 1"]);
    assert_eq!(refused.status.code(), Some(1));
    let stderr = text(&refused.stderr);
    assert!(
        stderr.contains("Access denied for user 'alice'@'127.0.0.1'"),
        "{stderr}"
    );
    assert!(refused.stdout.is_empty());

    let url = db.url(PASSWORD);
    let missing = mysql_remote(&url, &["--execute", "SELECT * FROM nowhere"]);
    assert_eq!(missing.status.code(), Some(1));
    assert!(
        text(&missing.stderr).contains("Table 'school.nowhere' doesn't exist"),
        "{}",
        text(&missing.stderr)
    );
    let syntax = mysql_remote(&url, &["--execute", "SELEC 1"]);
    assert_eq!(syntax.status.code(), Some(1));
    assert!(
        text(&syntax.stderr).contains("error in your SQL syntax"),
        "{}",
        text(&syntax.stderr)
    );
}
