//! The statements a session answers itself, without the engine: what clients send to
//! set a session up (`SET NAMES`, `SET autocommit=0`, `SELECT @@version_comment`,
//! `SELECT @@max_allowed_packet,@@wait_timeout`, `SHOW WARNINGS`), `USE`, and the
//! transaction statements (`BEGIN`, `START TRANSACTION`, `COMMIT`, `ROLLBACK`).

use std::sync::LazyLock;

use regex::Regex;

/// A session statement, answered here rather than by the engine.
pub(super) enum SqlSessionStatement {
    Autocommit(bool),
    Set,
    Begin,
    Commit,
    Rollback,
    Use(String),
    Variables(Vec<String>),
    Empty(&'static [&'static str]),
}

pub(super) fn session_statement(sql: &str) -> Option<SqlSessionStatement> {
    static AUTOCOMMIT: LazyLock<Regex> = LazyLock::new(|| {
        Regex::new(
            r"(?i)^set\s+(session\s+|@@session\.|@@)?autocommit\s*=\s*(0|1|on|off|true|false)$",
        )
        .expect("valid")
    });
    static SET: LazyLock<Regex> = LazyLock::new(|| Regex::new(r"(?is)^set\s").expect("valid"));
    static BEGIN: LazyLock<Regex> = LazyLock::new(|| {
        Regex::new(r"(?i)^(begin(\s+work)?|start\s+transaction(\s+read\s+(write|only))?)$")
            .expect("valid")
    });
    static COMMIT: LazyLock<Regex> =
        LazyLock::new(|| Regex::new(r"(?i)^commit(\s+work)?$").expect("valid"));
    static ROLLBACK: LazyLock<Regex> =
        LazyLock::new(|| Regex::new(r"(?i)^rollback(\s+work)?$").expect("valid"));
    static USE: LazyLock<Regex> =
        LazyLock::new(|| Regex::new(r"(?i)^use\s+`?(\w+)`?$").expect("valid"));
    static VARIABLES: LazyLock<Regex> = LazyLock::new(|| {
        let one = r"(@@[\w.]+|database\(\)|version\(\)|user\(\)|current_user\(\)|connection_id\(\))(\s+as\s+\w+)?";
        Regex::new(&format!(
            r"(?i)^select\s+{one}(\s*,\s*{one})*(\s+limit\s+\d+)?$"
        ))
        .expect("valid")
    });
    static SHOW: LazyLock<Regex> = LazyLock::new(|| {
        Regex::new(
            r"(?i)^show\s+(warnings|errors|(session\s+|global\s+)?(variables|status))(\s+.*)?$",
        )
        .expect("valid")
    });
    let sql = sql.trim().trim_end_matches(';').trim();
    if let Some(found) = AUTOCOMMIT.captures(sql) {
        let on = matches!(found[2].to_ascii_lowercase().as_str(), "1" | "on" | "true");
        return Some(SqlSessionStatement::Autocommit(on));
    }
    if SET.is_match(sql) {
        return Some(SqlSessionStatement::Set);
    }
    if BEGIN.is_match(sql) {
        return Some(SqlSessionStatement::Begin);
    }
    if COMMIT.is_match(sql) {
        return Some(SqlSessionStatement::Commit);
    }
    if ROLLBACK.is_match(sql) {
        return Some(SqlSessionStatement::Rollback);
    }
    if let Some(found) = USE.captures(sql) {
        return Some(SqlSessionStatement::Use(found[1].to_owned()));
    }
    if VARIABLES.is_match(sql) {
        let list = sql[6..].trim();
        let list = Regex::new(r"(?i)\s+limit\s+\d+$")
            .expect("valid")
            .replace(list, "");
        return Some(SqlSessionStatement::Variables(
            list.split(',').map(|item| item.trim().to_owned()).collect(),
        ));
    }
    if let Some(found) = SHOW.captures(sql) {
        return Some(SqlSessionStatement::Empty(
            if found[1].to_ascii_lowercase().ends_with("warnings")
                || found[1].to_ascii_lowercase().ends_with("errors")
            {
                &["Level", "Code", "Message"]
            } else {
                &["Variable_name", "Value"]
            },
        ));
    }
    None
}

/// Statements that commit an open transaction first, as MySQL's DDL does.
pub(super) fn commits_implicitly(sql: &str) -> bool {
    static DDL: LazyLock<Regex> = LazyLock::new(|| {
        Regex::new(r"(?i)^\s*(create|drop|alter|truncate|rename)\s").expect("valid")
    });
    DDL.is_match(sql)
}
