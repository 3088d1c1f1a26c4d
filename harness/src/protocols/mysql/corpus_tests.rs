//! The embedded engine proven against a real MariaDB (issue 39 §3): every statement of
//! [`corpus.toml`](corpus.toml), the statements students write for mysql-remote, runs on
//! a fresh [`SqlEngine`] and on a throw-away `mariadbd` ([`Mariadb`], the one
//! `--mysql real` uses), and the two answers must be the same: success or the same error
//! code; the same rows affected; the same result set.
//!
//! The test fails, never skips, when MariaDB is missing (`.ci/test` installs it). The
//! server is killed (its process group) when the [`Mariadb`] goes, a panic included.

use serde::Deserialize;

use super::mariadb::Mariadb;
use super::{AuthPlugin, MysqlScript};
use mysql_engine::{SqlEngine, SqlError, SqlOutcome};

const CORPUS: &str = include_str!("corpus.toml");

/// The database every script starts on, empty.
const DATABASE: &str = "school";

/// MariaDB's own databases, which a script never drops.
const SYSTEM: [&str; 4] = ["information_schema", "mysql", "performance_schema", "sys"];

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Corpus {
    script: Vec<Script>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Script {
    name: String,
    statements: Vec<Entry>,
}

#[derive(Debug, Deserialize)]
#[serde(untagged)]
enum Entry {
    Sql(String),
    Detailed(Detailed),
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Detailed {
    sql: String,
    #[serde(default)]
    compare: Compare,
    known_difference: Option<String>,
}

/// How two result sets are compared (see the top of `corpus.toml`).
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "kebab-case")]
enum Compare {
    #[default]
    Exact,
    Unordered,
    Shape,
    Among,
}

impl Entry {
    fn parts(&self) -> (&str, Compare, Option<&str>) {
        match self {
            Entry::Sql(sql) => (sql, Compare::Exact, None),
            Entry::Detailed(detailed) => (
                &detailed.sql,
                detailed.compare,
                detailed.known_difference.as_deref(),
            ),
        }
    }
}

/// Why two answers differ, if they do.
fn difference(
    compare: Compare,
    embedded: &Result<SqlOutcome, SqlError>,
    real: &Result<SqlOutcome, SqlError>,
) -> Option<String> {
    match (embedded, real) {
        (Err(ours), Err(theirs)) => {
            (ours.code != theirs.code).then(|| "not the same error code".to_owned())
        }
        (Ok(SqlOutcome::Done { affected: ours }), Ok(SqlOutcome::Done { affected: theirs })) => {
            (ours != theirs).then(|| "not the same number of rows affected".to_owned())
        }
        (Ok(SqlOutcome::Rows(ours)), Ok(SqlOutcome::Rows(theirs))) => {
            // `mariadb --xml` names no column of an empty result set.
            if theirs.rows.is_empty() {
                return (!ours.rows.is_empty()).then(|| "MariaDB gave no rows".to_owned());
            }
            if ours.columns != theirs.columns {
                return Some("not the same columns".into());
            }
            let same = match compare {
                Compare::Exact => ours.rows == theirs.rows,
                Compare::Unordered => {
                    let (mut a, mut b) = (ours.rows.clone(), theirs.rows.clone());
                    a.sort();
                    b.sort();
                    a == b
                }
                Compare::Shape => {
                    let nulls = |rows: &Vec<Vec<Option<String>>>| -> Vec<Vec<bool>> {
                        rows.iter()
                            .map(|row| row.iter().map(Option::is_none).collect())
                            .collect()
                    };
                    nulls(&ours.rows) == nulls(&theirs.rows)
                }
                Compare::Among => ours.rows.iter().all(|row| theirs.rows.contains(row)),
            };
            (!same).then(|| format!("not the same rows ({compare:?})"))
        }
        _ => Some("one succeeded, the other did not, or one gave rows and the other none".into()),
    }
}

/// Drops every database but MariaDB's own and makes [`DATABASE`] anew.
fn fresh_database(mariadb: &Mariadb) {
    let Ok(SqlOutcome::Rows(databases)) = mariadb.select("mysql", "SHOW DATABASES") else {
        panic!("MariaDB answers no SHOW DATABASES");
    };
    for row in databases.rows {
        let Some(Some(name)) = row.into_iter().next() else {
            continue;
        };
        if !SYSTEM.contains(&name.as_str()) {
            mariadb
                .select("mysql", &format!("DROP DATABASE `{name}`"))
                .expect("MariaDB drops a corpus database");
        }
    }
    mariadb
        .select("mysql", &format!("CREATE DATABASE `{DATABASE}`"))
        .expect("MariaDB makes the corpus database");
}

#[test]
fn the_embedded_engine_answers_the_labs_statements_as_mariadb_does() {
    let corpus: Corpus = toml::from_str(CORPUS).expect("corpus.toml reads");
    let script = MysqlScript {
        user: "student".into(),
        password: "secret".into(),
        database: DATABASE.into(),
        auth: AuthPlugin::default(),
        setup: Vec::new(),
    };
    let mariadb = Mariadb::start(&script, &crate::settings::RunSettings::machine_defaults());
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("a runtime");
    if let Err(why) = runtime.block_on(mariadb.ready()) {
        panic!(
            "this test needs MariaDB (apt-get install mariadb-server mariadb-client; .ci/test installs it): {why}"
        );
    }
    let mut failures = Vec::new();
    let mut count = 0;
    let mut known = 0;
    for script in &corpus.script {
        fresh_database(&mariadb);
        let mut engine = SqlEngine::with_databases([DATABASE]);
        for (index, entry) in script.statements.iter().enumerate() {
            count += 1;
            let (sql, compare, known_difference) = entry.parts();
            let embedded = engine.execute(Some(DATABASE), sql);
            let real = mariadb.select(DATABASE, sql);
            let at = format!("{} #{}: `{sql}`", script.name, index + 1);
            if let Some(reason) = known_difference {
                known += 1;
                let plain = matches!(&embedded, Err(error) if error.code == 1235 && error.message.contains("embedded"));
                if !plain {
                    failures.push(format!(
                        "{at}: a known difference ({reason}) must be refused with 1235 naming the embedded engine\n    embedded: {embedded:?}"
                    ));
                }
                if real.is_err() {
                    failures.push(format!(
                        "{at}: listed as a known difference, but MariaDB refuses it too: {real:?}"
                    ));
                }
                continue;
            }
            if let Some(why) = difference(compare, &embedded, &real) {
                failures.push(format!(
                    "{at}: {why}\n    embedded: {embedded:?}\n    MariaDB:  {real:?}"
                ));
            }
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {count} statements answered otherwise than MariaDB ({known} known differences):\n{}",
        failures.len(),
        failures.join("\n")
    );
    eprintln!("{count} statements answered as MariaDB does ({known} known differences)");
}
