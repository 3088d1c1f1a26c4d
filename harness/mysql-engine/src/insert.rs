//! MySQL's `INSERT` and `REPLACE`, read into their parts so that the engine
//! ([`super::engine`]) can do what gluesql cannot: give an `AUTO_INCREMENT` column its
//! values, skip a duplicate row (`INSERT IGNORE`), update the row a duplicate meets
//! (`ON DUPLICATE KEY UPDATE`), replace it (`REPLACE`), and read `INSERT ... SET`.
//!
//! ```text
//! INSERT [LOW_PRIORITY | DELAYED | HIGH_PRIORITY] [IGNORE] [INTO] t [(a, b)]
//!     {VALUES | VALUE} (1, 'x'), (2, 'y')          -- or: SET a = 1, b = 'x'
//!     [ON DUPLICATE KEY UPDATE b = VALUES(b), n = n + 1]
//! REPLACE [INTO] t [(a, b)] VALUES (1, 'x')
//! ```
//!
//! Values and expressions stay as tokens ([`super::create_table`]'s), rendered in the
//! engine's dialect when the engine builds its statements.

use super::create_table::{Token, closing, render, split, tokens};

/// An `INSERT` or `REPLACE` with its rows spelled out.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Insert {
    /// `REPLACE`: a row meeting a duplicate replaces the old one.
    pub replace: bool,
    /// `INSERT IGNORE`: a row meeting a duplicate is skipped.
    pub ignore: bool,
    /// `INSERT ... SET a = 1`.
    pub set_form: bool,
    /// The table (without its database).
    pub table: String,
    /// The columns named, if any (none: every column, in order).
    pub columns: Option<Vec<String>>,
    /// Each row's values, one token list each.
    pub rows: Vec<Vec<Vec<Token>>>,
    /// `ON DUPLICATE KEY UPDATE`: each column and its expression.
    pub on_duplicate: Vec<(String, Vec<Token>)>,
}

impl Insert {
    /// Whether gluesql cannot run it as written (and the engine must).
    pub(crate) fn is_mysql_only(&self) -> bool {
        self.replace || self.ignore || self.set_form || !self.on_duplicate.is_empty()
    }
}

/// What [`parse`] found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Parsed {
    Insert(Insert),
    /// An `INSERT` or `REPLACE` of a form read nowhere here (`INSERT ... SELECT`): what it
    /// is, and whether it needs MySQL's own behaviour (`IGNORE`, `ON DUPLICATE KEY`,
    /// `REPLACE`), which gluesql cannot give it.
    Other {
        form: &'static str,
        mysql_only: bool,
    },
}

/// `sql` read as an `INSERT` or `REPLACE`; `None`: it is neither.
pub(crate) fn parse(sql: &str) -> Option<Parsed> {
    let tokens = tokens(sql)?;
    let first = tokens.first()?;
    let replace = first.is("replace");
    if !replace && !first.is("insert") {
        return None;
    }
    let mysql_only = replace
        || tokens.iter().take(4).any(|token| token.is("ignore"))
        || tokens
            .windows(3)
            .any(|three| three[0].is("on") && three[1].is("duplicate") && three[2].is("key"));
    let other = |form| Some(Parsed::Other { form, mysql_only });
    let mut at = 1;
    let word = |at: usize, word: &str| tokens.get(at).is_some_and(|token| token.is(word));
    while ["low_priority", "delayed", "high_priority"]
        .iter()
        .any(|modifier| word(at, modifier))
    {
        at += 1;
    }
    let ignore = word(at, "ignore");
    at += usize::from(ignore);
    at += usize::from(word(at, "into"));
    // The table: `t` or `db.t`.
    let Some(mut table) = tokens.get(at).and_then(Token::name).map(str::to_owned) else {
        return other("INSERT without a table");
    };
    at += 1;
    if tokens.get(at) == Some(&Token::Punct('.')) {
        let Some(name) = tokens.get(at + 1).and_then(Token::name) else {
            return other("INSERT without a table");
        };
        table = name.to_owned();
        at += 2;
    }
    let mut columns = None;
    if tokens.get(at) == Some(&Token::Punct('(')) {
        let Some(close) = closing(&tokens, at) else {
            return other("INSERT with a column list never closed");
        };
        let inner = &tokens[at + 1..close];
        if inner.first().is_some_and(|token| token.is("select")) {
            return other("INSERT ... SELECT");
        }
        let mut names = Vec::new();
        for part in split(inner).into_iter().filter(|part| !part.is_empty()) {
            // `t.a` or `a`: the column's own name.
            match part.last().and_then(Token::name) {
                Some(name) => names.push(name.to_owned()),
                None => return other("INSERT with a column list of expressions"),
            }
        }
        columns = Some(names);
        at = close + 1;
    }
    let mut rows = Vec::new();
    let mut set_form = false;
    if word(at, "values") || word(at, "value") {
        at += 1;
        loop {
            if tokens.get(at) != Some(&Token::Punct('(')) {
                return other("INSERT with a row that is not in parentheses");
            }
            let Some(close) = closing(&tokens, at) else {
                return other("INSERT with a row never closed");
            };
            let inner = &tokens[at + 1..close];
            let row: Vec<Vec<Token>> = if inner.is_empty() {
                Vec::new()
            } else {
                split(inner).into_iter().map(<[Token]>::to_vec).collect()
            };
            rows.push(row);
            at = close + 1;
            if tokens.get(at) == Some(&Token::Punct(',')) {
                at += 1;
            } else {
                break;
            }
        }
    } else if word(at, "set") && columns.is_none() {
        at += 1;
        let end = on_duplicate_at(&tokens, at).unwrap_or(tokens.len());
        let Some(assignments) = assignments(&tokens[at..end]) else {
            return other("INSERT ... SET with something other than `column = value`");
        };
        columns = Some(assignments.iter().map(|(name, _)| name.clone()).collect());
        rows.push(assignments.into_iter().map(|(_, value)| value).collect());
        set_form = true;
        at = end;
    } else if word(at, "select") || tokens.get(at) == Some(&Token::Punct('(')) {
        return other("INSERT ... SELECT");
    } else {
        return other("INSERT of a form the embedded engine does not read");
    }
    let mut on_duplicate = Vec::new();
    if let Some(start) = on_duplicate_at(&tokens, at) {
        if start != at {
            return other("INSERT with something between its rows and ON DUPLICATE KEY UPDATE");
        }
        let Some(found) = assignments(&tokens[at + 4..]) else {
            return other("ON DUPLICATE KEY UPDATE with something other than `column = value`");
        };
        on_duplicate = found;
        at = tokens.len();
    }
    if !tokens[at..].is_empty() {
        return other("INSERT with something after its rows");
    }
    Some(Parsed::Insert(Insert {
        replace,
        ignore,
        set_form,
        table,
        columns,
        rows,
        on_duplicate,
    }))
}

/// Where `ON DUPLICATE KEY UPDATE` starts, at `from` or later.
fn on_duplicate_at(tokens: &[Token], from: usize) -> Option<usize> {
    (from..tokens.len()).find(|&at| {
        let word = |offset: usize, word: &str| tokens.get(at + offset).is_some_and(|t| t.is(word));
        word(0, "on") && word(1, "duplicate") && word(2, "key") && word(3, "update")
    })
}

/// `a = 1, t.b = VALUES(b) + 1`: each column's own name and its expression.
fn assignments(tokens: &[Token]) -> Option<Vec<(String, Vec<Token>)>> {
    split(tokens)
        .into_iter()
        .map(|part| {
            let equals = part.iter().position(|token| *token == Token::Punct('='))?;
            let name = part[..equals].last()?.name()?.to_owned();
            let value = part[equals + 1..].to_vec();
            (!value.is_empty()).then_some((name, value))
        })
        .collect()
}

/// An expression in the engine's dialect, each `VALUES(column)` (MariaDB also spells it
/// `VALUE(column)`) replaced by `value_of(column)`: the value the row would have
/// inserted.
pub(crate) fn with_values(expression: &[Token], value_of: &dyn Fn(&str) -> String) -> String {
    let mut out: Vec<String> = Vec::new();
    let mut at = 0;
    while at < expression.len() {
        if let [function, Token::Punct('('), column, Token::Punct(')'), ..] = &expression[at..]
            && (function.is("values") || function.is("value"))
            && let Some(name) = column.name()
        {
            out.push(format!("({})", value_of(name)));
            at += 4;
            continue;
        }
        out.push(render(&expression[at..=at]));
        at += 1;
    }
    out.join(" ")
}

/// Whether a value asks for the next `AUTO_INCREMENT` value: `NULL`, or `0` (without
/// MySQL's `NO_AUTO_VALUE_ON_ZERO` mode).
pub(crate) fn asks_for_next(value: &[Token]) -> bool {
    match value {
        [Token::Text(text)] => text == "0",
        [word] => word.is("null") || word.is("0") || word.is("default"),
        _ => false,
    }
}

/// An explicit whole number given to an `AUTO_INCREMENT` column (`7`, `'7'`).
pub(crate) fn whole_number(value: &[Token]) -> Option<u64> {
    match value {
        [Token::Word(number)] | [Token::Text(number)] => number.trim().parse().ok(),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn insert(sql: &str) -> Insert {
        match parse(sql) {
            Some(Parsed::Insert(insert)) => insert,
            other => panic!("{sql}: {other:?}"),
        }
    }

    #[test]
    fn the_forms_students_write_are_read() {
        let found = insert(
            r"INSERT IGNORE INTO school.`students` (roll_no, name) VALUES ('CS01', 'D\'Souza'), ('CS02', 'Asha')",
        );
        assert!(found.ignore && !found.replace && !found.set_form);
        assert_eq!(found.table, "students");
        assert_eq!(
            found.columns,
            Some(vec!["roll_no".to_owned(), "name".to_owned()])
        );
        assert_eq!(found.rows.len(), 2);
        assert_eq!(render(&found.rows[0][1]), "'D''Souza'");
        let upsert = insert(
            "INSERT INTO marks (roll_no, mark) VALUES (1, 90) ON DUPLICATE KEY UPDATE mark = VALUES(mark) + 1, seen = seen + 1",
        );
        assert_eq!(upsert.on_duplicate.len(), 2);
        assert_eq!(
            with_values(&upsert.on_duplicate[0].1, &|column| format!("<{column}>")),
            "(<mark>) + 1"
        );
        let set = insert("INSERT students SET name = 'Asha', semester = 8");
        assert!(set.set_form);
        assert_eq!(
            set.columns,
            Some(vec!["name".to_owned(), "semester".to_owned()])
        );
        assert!(insert("REPLACE INTO t VALUES (1)").replace);
        assert_eq!(parse("SELECT 1"), None);
    }

    #[test]
    fn forms_not_read_here_say_what_they_are() {
        assert_eq!(
            parse("INSERT IGNORE INTO t SELECT * FROM s"),
            Some(Parsed::Other {
                form: "INSERT ... SELECT",
                mysql_only: true
            })
        );
        assert_eq!(
            parse("INSERT INTO t (a) SELECT a FROM s"),
            Some(Parsed::Other {
                form: "INSERT ... SELECT",
                mysql_only: false
            })
        );
    }

    #[test]
    fn null_and_zero_ask_for_the_next_value() {
        let value = |sql: &str| tokens(sql).unwrap();
        assert!(asks_for_next(&value("NULL")));
        assert!(asks_for_next(&value("0")));
        assert!(!asks_for_next(&value("7")));
        assert_eq!(whole_number(&value("7")), Some(7));
        assert_eq!(whole_number(&value("'12'")), Some(12));
    }
}
