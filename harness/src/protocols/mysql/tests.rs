//! The MySQL peer against clients nobody here wrote: PyMySQL (Debian's
//! `python3-pymysql`: a text query, `cursor.execute` with parameters, commit, rollback, a
//! connection closed with a transaction open, errors, a wrong password; MySQL's own
//! `CREATE TABLE` with table-level keys and options) and the `mariadb`
//! command-line client (`-e 'SELECT ...'`, batch output), each with both password methods.
//! The reference's `mysql_async` (prepared statements, bound parameters) plays every
//! `mysql-remote` scenario.

use std::sync::Arc;

use super::record::{MysqlRecord, MysqlSession, SqlEnding, Values};
use super::{AuthPlugin, MysqlScript};
use crate::peers::ServerPeer;
use crate::protocols::mailstore::testing::{python, run, start_peer};

const PASSWORD: &str = "s3cret-sql";

async fn peer(auth: AuthPlugin) -> ServerPeer {
    start_peer(Arc::new(MysqlScript {
        user: "alice".into(),
        password: PASSWORD.into(),
        database: "school".into(),
        auth,
        setup: vec![
            "CREATE TABLE people (id INT PRIMARY KEY, name VARCHAR(40), city VARCHAR(40))".into(),
            r"INSERT INTO people VALUES (1, 'O\'Brien, Pat', 'Cork'), (2, 'Ann', NULL)".into(),
        ],
    }))
    .await
}

fn record(peer: &ServerPeer) -> &MysqlRecord {
    peer.record()
        .expect("a protocol peer keeps a record")
        .as_any()
        .downcast_ref::<MysqlRecord>()
        .expect("the MySQL record")
}

/// Waits until `count` sessions have ended (the client's close reaches the peer a moment
/// after the client exits).
async fn ended(peer: &ServerPeer, count: usize) -> Vec<MysqlSession> {
    for _ in 0..500 {
        let sessions = record(peer).sessions();
        if sessions.len() == count && sessions.iter().all(|session| session.ended) {
            return sessions;
        }
        tokio::time::sleep(std::time::Duration::from_millis(10)).await;
    }
    panic!("sessions did not end: {:?}", record(peer).sessions());
}

/// A text query, parameters with a quote, a backslash and a tab, a rollback, a commit,
/// an unknown table, a duplicate key, a syntax error; a second connection left with its
/// insert uncommitted; a wrong password.
const PYMYSQL: &str = r#"
import pymysql, sys
port = int(sys.argv[1])
def connect(password):
    return pymysql.connect(host="127.0.0.1", port=port, user="alice", password=password,
                           database="school", connect_timeout=10)
c = connect(sys.argv[2])
with c.cursor() as cur:
    cur.execute("SELECT id, name, city FROM people ORDER BY id")
    print("columns", [d[0] for d in cur.description])
    for row in cur.fetchall():
        print("row", row)
    cur.execute("INSERT INTO people VALUES (%s, %s, %s)", (3, "Maria D'Souza", None))
    c.rollback()
    print("inserted", cur.execute("INSERT INTO people VALUES (%s, %s, %s), (%s, %s, %s)",
                                  (4, "back\\slash\ttab", "x", 5, "Eve", "y")))
    c.commit()
    for sql in ["SELECT * FROM nowhere", "INSERT INTO people VALUES (1, 'again', NULL)", "SELEC 1"]:
        try:
            cur.execute(sql)
        except pymysql.MySQLError as e:
            print("error", e.args[0], e.args[1])
c.close()
d = connect(sys.argv[2])
d.cursor().execute("INSERT INTO people VALUES (6, 'never committed', NULL)")
d.close()
try:
    connect("wrong")
except pymysql.MySQLError as e:
    print("refused", e.args[0], e.args[1])
"#;

async fn pymysql_against(auth: AuthPlugin) {
    let peer = peer(auth).await;
    let port = peer.port.to_string();
    let stdout = python(PYMYSQL, &[port, PASSWORD.into()]).await;
    assert_eq!(
        stdout,
        "columns ['id', 'name', 'city']\n\
         row (1, \"O'Brien, Pat\", 'Cork')\n\
         row (2, 'Ann', None)\n\
         inserted 2\n\
         error 1146 Table 'school.nowhere' doesn't exist\n\
         error 1062 Duplicate entry '1' for key 'PRIMARY'\n\
         error 1064 You have an error in your SQL syntax; check the manual that corresponds to your MariaDB server version for the right syntax to use near 'SELEC 1' at line 1\n\
         refused 1045 Access denied for user 'alice'@'127.0.0.1' (using password: YES)\n",
        "{auth:?}"
    );
    let sessions = ended(&peer, 3).await;
    assert_eq!(sessions[0].auth_method, Some(auth.name()));
    assert_eq!(sessions[0].login, Some(("alice".into(), true)));
    assert_eq!(sessions[2].login, Some(("alice".into(), false)));
    // pymysql turns autocommit off: its statements run in transactions.
    let endings: Vec<SqlEnding> = sessions[0]
        .transactions
        .iter()
        .map(|transaction| transaction.ending)
        .collect();
    assert_eq!(
        endings,
        [
            SqlEnding::RolledBack,
            SqlEnding::Committed,
            SqlEnding::RolledBackAtDisconnect
        ]
    );
    assert_eq!(
        sessions[1].transactions[0].ending,
        SqlEnding::RolledBackAtDisconnect
    );
    let inserted = sessions[0]
        .statements
        .iter()
        .find(|statement| statement.sql.contains("back"))
        .expect("the insert");
    assert_eq!(
        inserted.values,
        Values::Text,
        "pymysql escapes on the client"
    );
    let rows = record(&peer).table("people").expect("the table").rows;
    let names: Vec<Option<String>> = rows.iter().map(|row| row[1].clone()).collect();
    assert_eq!(
        names,
        [
            Some("O'Brien, Pat".into()),
            Some("Ann".into()),
            Some("back\\slash\ttab".into()),
            Some("Eve".into())
        ],
        "rolled back and uncommitted rows are gone; escapes read as MySQL reads them"
    );
}

#[tokio::test]
async fn pymysql_with_mysql_native_password() {
    pymysql_against(AuthPlugin::MysqlNativePassword).await;
}

#[tokio::test]
async fn pymysql_with_caching_sha2_password() {
    pymysql_against(AuthPlugin::CachingSha2Password).await;
}

/// MySQL's own DDL, as students write it: the examiner's table-level primary key with
/// table options, and a table with every common type, attribute, key and index; run
/// through the pack by PyMySQL, the keys hold (a second run's rows are MySQL's 1062).
const PYMYSQL_DDL: &str = r#"
import datetime, pymysql, sys
c = pymysql.connect(host="127.0.0.1", port=int(sys.argv[1]), user="alice", password=sys.argv[2],
                    database="school", connect_timeout=10)
STUDENTS = ("CREATE TABLE IF NOT EXISTS students (roll_no VARCHAR(16) NOT NULL, "
            "name VARCHAR(100) NOT NULL, semester INT NOT NULL, programme VARCHAR(32) NOT NULL, "
            "PRIMARY KEY (roll_no)) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4")
MARKS = """CREATE TABLE IF NOT EXISTS `marks` (
  `id` INT(11) UNSIGNED NOT NULL AUTO_INCREMENT COMMENT 'the row''s id',
  `roll_no` VARCHAR(16) NOT NULL,
  `course` CHAR(6) CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci NOT NULL,
  `grade` ENUM('A','B','C') DEFAULT NULL,
  `score` DECIMAL(5,2) DEFAULT NULL,
  `weight` DOUBLE, `ratio` FLOAT,
  `credits` TINYINT NOT NULL DEFAULT 4, `sem` SMALLINT, `big` BIGINT,
  `held` DATE, `at` DATETIME, `stamp` TIMESTAMP NULL DEFAULT CURRENT_TIMESTAMP,
  `note` TEXT,
  PRIMARY KEY (`id`),
  UNIQUE KEY `uq_roll_course` (`roll_no`, `course`),
  KEY `idx_course` (`course`),
  INDEX (`held`)
) ENGINE=InnoDB AUTO_INCREMENT=1 DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci COMMENT='marks of a course'"""
INSERT = "INSERT INTO students (roll_no, name, semester, programme) VALUES (%s, %s, %s, %s)"
ROWS = [("CS2101", "Asha Rao", 8, "BTech"), ("CS2103", "Neil D'Souza", 8, "BTech")]
MARK = ("INSERT INTO marks (id, roll_no, course, grade, score, weight, ratio, sem, big, held, at, note) "
        "VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s)")
def mark(id):
    return (id, "CS2103", "CS101", "A", 87.5, 0.5, 0.25, 8, 10**12,
            datetime.date(2026, 1, 5), datetime.datetime(2026, 1, 5, 10, 0), "first")
with c.cursor() as cur:
    for sql in [STUDENTS, MARKS]:
        cur.execute(sql)
    print("inserted", cur.executemany(INSERT, ROWS), cur.execute(MARK, mark(1)))
    c.commit()
    cur.execute(STUDENTS)
    for sql, rows in [(INSERT, ROWS), (MARK, [mark(2)]), (MARK, [mark(1)])]:
        try:
            cur.executemany(sql, rows)
        except pymysql.MySQLError as e:
            print("error", e.args[0], e.args[1])
            c.rollback()
    cur.execute("SELECT roll_no, name FROM students ORDER BY roll_no")
    print(cur.fetchall())
    cur.execute("SELECT id, roll_no, course, grade, credits FROM marks")
    print(cur.fetchall())
c.close()
"#;

#[tokio::test]
async fn pymysql_runs_mysql_ddl_with_table_level_keys_and_options() {
    let peer = peer(AuthPlugin::MysqlNativePassword).await;
    let stdout = python(PYMYSQL_DDL, &[peer.port.to_string(), PASSWORD.into()]).await;
    assert_eq!(
        stdout,
        "inserted 2 1\n\
         error 1062 Duplicate entry 'CS2101' for key 'PRIMARY'\n\
         error 1062 Duplicate entry 'CS2103-CS101' for key 'uq_roll_course'\n\
         error 1062 Duplicate entry '1' for key 'PRIMARY'\n\
         (('CS2101', 'Asha Rao'), ('CS2103', \"Neil D'Souza\"))\n\
         ((1, 'CS2103', 'CS101', 'A', 4),)\n"
    );
    ended(&peer, 1).await;
    let columns = record(&peer).columns("students").expect("the table");
    assert_eq!(
        columns
            .iter()
            .map(|(name, _, primary)| (name.as_str(), *primary))
            .collect::<Vec<_>>(),
        [
            ("roll_no", true),
            ("name", false),
            ("semester", false),
            ("programme", false)
        ]
    );
}

async fn mariadb(port: &str, password: &str, sql: &str) -> std::process::Output {
    let args = [
        "--no-defaults",
        "--skip-ssl",
        "-h",
        "127.0.0.1",
        "-P",
        port,
        "-u",
        "alice",
        &format!("-p{password}"),
        "school",
        "-e",
        sql,
    ];
    run(
        "mariadb",
        args.iter().map(|arg| (*arg).to_owned()).collect(),
        "the mariadb client (apt-get install mariadb-client)",
    )
    .await
}

async fn mariadb_client_against(auth: AuthPlugin) {
    let peer = peer(auth).await;
    let port = peer.port.to_string();
    let output = mariadb(
        &port,
        PASSWORD,
        "SELECT id, name, city FROM people ORDER BY id; SHOW TABLES; UPDATE people SET city = 'Delhi' WHERE id = 2",
    )
    .await;
    assert!(
        output.status.success(),
        "{auth:?}: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert_eq!(
        String::from_utf8_lossy(&output.stdout),
        "id\tname\tcity\n1\tO'Brien, Pat\tCork\n2\tAnn\tNULL\nTables_in_school\npeople\n"
    );
    let refused = mariadb(&port, "wrong", "SELECT 1").await;
    assert_eq!(refused.status.code(), Some(1));
    assert!(
        String::from_utf8_lossy(&refused.stderr)
            .contains("ERROR 1045 (28000): Access denied for user 'alice'@'127.0.0.1'"),
        "{}",
        String::from_utf8_lossy(&refused.stderr)
    );
    let sessions = ended(&peer, 2).await;
    assert_eq!(sessions[0].auth_method, Some(auth.name()));
    // The client keeps autocommit on: the update is committed by itself.
    let rows = record(&peer).table("people").unwrap().rows;
    assert_eq!(rows[1][2], Some("Delhi".into()));
}

#[tokio::test]
async fn the_mariadb_client_with_mysql_native_password() {
    mariadb_client_against(AuthPlugin::MysqlNativePassword).await;
}

#[tokio::test]
async fn the_mariadb_client_with_caching_sha2_password() {
    mariadb_client_against(AuthPlugin::CachingSha2Password).await;
}

/// One packet of the wire protocol: its sequence number and payload.
async fn packet(stream: &mut tokio::net::TcpStream) -> (u8, Vec<u8>) {
    use tokio::io::AsyncReadExt;
    let mut header = [0u8; 4];
    stream
        .read_exact(&mut header)
        .await
        .expect("a packet header");
    let length = u32::from_le_bytes([header[0], header[1], header[2], 0]) as usize;
    let mut payload = vec![0u8; length];
    stream.read_exact(&mut payload).await.expect("a packet");
    (header[3], payload)
}

/// A client that connects without a database but sends the handshake's database field
/// empty (`CLIENT_CONNECT_WITH_DB` and `""`), as some drivers do: MySQL and MariaDB log it
/// in with no database selected, and so does the embedded engine.
#[tokio::test]
async fn a_login_with_an_empty_database_field_is_a_login_without_a_database() {
    use tokio::io::AsyncWriteExt;
    const LONG_PASSWORD: u32 = 1;
    const CONNECT_WITH_DB: u32 = 8;
    const PROTOCOL_41: u32 = 0x200;
    const SECURE_CONNECTION: u32 = 0x8000;
    const PLUGIN_AUTH: u32 = 0x8_0000;
    let peer = peer(AuthPlugin::MysqlNativePassword).await;
    let mut stream = tokio::net::TcpStream::connect(("127.0.0.1", peer.port))
        .await
        .expect("the peer listens");
    let (_, greeting) = packet(&mut stream).await;
    // Protocol 10: version, its server version up to a NUL, a connection id, 8 bytes of
    // salt, a filler, capabilities, character set, status, capabilities, the salt's
    // length, 10 reserved bytes, the rest of the salt (NUL-terminated).
    let version_end = 1 + greeting[1..].iter().position(|&byte| byte == 0).unwrap();
    let first = version_end + 1 + 4;
    let mut salt = greeting[first..first + 8].to_vec();
    let rest = first + 8 + 1 + 2 + 1 + 2 + 2 + 1 + 10;
    let rest_end = rest + greeting[rest..].iter().position(|&byte| byte == 0).unwrap();
    salt.extend_from_slice(&greeting[rest..rest_end]);
    let scramble = super::auth::native_scramble(PASSWORD, &salt[..20]);
    let capabilities =
        LONG_PASSWORD | CONNECT_WITH_DB | PROTOCOL_41 | SECURE_CONNECTION | PLUGIN_AUTH;
    let mut response = Vec::new();
    response.extend_from_slice(&capabilities.to_le_bytes());
    response.extend_from_slice(&(1u32 << 24).to_le_bytes());
    response.push(33);
    response.extend_from_slice(&[0; 23]);
    response.extend_from_slice(b"alice\0");
    response.push(scramble.len() as u8);
    response.extend_from_slice(&scramble);
    response.extend_from_slice(b"\0");
    response.extend_from_slice(b"mysql_native_password\0");
    let mut sent = (response.len() as u32).to_le_bytes()[..3].to_vec();
    sent.push(1);
    sent.extend_from_slice(&response);
    stream
        .write_all(&sent)
        .await
        .expect("the handshake's answer");
    let (_, answer) = packet(&mut stream).await;
    assert_eq!(
        answer[0],
        0x00,
        "an OK packet, not {:?}",
        String::from_utf8_lossy(&answer)
    );
    drop(stream);
    let sessions = ended(&peer, 1).await;
    assert_eq!(sessions[0].login, Some(("alice".into(), true)));
}
