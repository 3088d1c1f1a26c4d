//! MySQL's `CREATE TABLE`, as students write it for MySQL and MariaDB, rewritten into one
//! the embedded engine (gluesql) accepts; the keys gluesql cannot hold are handed to the
//! engine ([`super::engine`]), which checks them itself.
//!
//! gluesql knows a column's own `PRIMARY KEY`, `UNIQUE`, `NOT NULL`, `DEFAULT` and
//! `COMMENT`, a `FOREIGN KEY`, and no other table-level key (`PRIMARY KEY (roll_no)` is
//! its "unsupported constraint"). So the column list is read item by item (literals and
//! backquoted names as [`super::dialect::pieces`] reads them):
//!
//! - a column: its type becomes gluesql's (`INT(11)`, `TINYINT`... `BIGINT`, `YEAR`:
//!   `INT`; `VARCHAR(n)`, `CHAR(n)`, the `TEXT`s, `ENUM(...)`, `SET(...)`, `JSON`: `TEXT`;
//!   `DECIMAL(p,s)`: `DECIMAL`; `FLOAT`, `DOUBLE`, `REAL`: `FLOAT`; `DATETIME`,
//!   `TIMESTAMP`: `TIMESTAMP`), its MySQL-only attributes are dropped (`UNSIGNED`,
//!   `ZEROFILL`, `AUTO_INCREMENT`, `CHARACTER SET x`, `COLLATE x`, `ON UPDATE ...`), and
//!   `KEY` alone is `PRIMARY KEY`, as MySQL reads it;
//! - `PRIMARY KEY (a)`, `CONSTRAINT name PRIMARY KEY (a)`: column `a` gets `PRIMARY KEY`;
//!   `UNIQUE [KEY|INDEX] [name] (a)`: `a` gets `UNIQUE`;
//! - a key of several columns (`PRIMARY KEY (a, b)`, `UNIQUE KEY k (a, b)`) leaves the
//!   statement (a primary key's columns become `NOT NULL`) and is kept in
//!   [`CreateTable::keys`], which the engine checks after every statement;
//! - `KEY`, `INDEX`, `FULLTEXT` and `SPATIAL` indexes are dropped: they make lookups fast
//!   and change no answer;
//! - the table options after the list (`ENGINE=InnoDB`, `DEFAULT CHARSET=utf8mb4`,
//!   `COLLATE=`, `AUTO_INCREMENT=`, `COMMENT=`...) are dropped: no answer shows them;
//! - `FOREIGN KEY`, `CHECK` and anything not known here go to gluesql as written.
//!
//! MySQL's refusals of a table's keys are kept: two primary keys (1068), a key on a column
//! the table lacks (1072), an `AUTO_INCREMENT` column that is no key (1075).
//!
//! What gluesql cannot hold is kept beside the statement, for the engine: the
//! `AUTO_INCREMENT` column (and the table option `AUTO_INCREMENT=n` its counter starts
//! at), which the engine fills in itself, and each column as MariaDB's `DESCRIBE` shows it
//! (`int(11)`, `varchar(50)`, its default and `auto_increment`).

use super::dialect::{self, Piece};

/// A `CREATE TABLE` in the engine's dialect, and its keys.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct CreateTable {
    /// The table's name (without its database).
    pub table: String,
    /// The statement gluesql runs.
    pub sql: String,
    /// Every key of the table, its primary key first: the ones of one column gluesql
    /// checks (the engine names them in its errors), the others the engine checks.
    pub keys: Vec<TableKey>,
    /// The columns as MariaDB describes them, in order.
    pub columns: Vec<ColumnShape>,
    /// The first column of each plain index (`KEY k (a, b)`: `a`), which `DESCRIBE`
    /// marks `MUL`.
    pub indexed: Vec<String>,
    /// The `AUTO_INCREMENT` column, if any: the engine gives it its values.
    pub auto_increment: Option<String>,
    /// The first value it gives (the table option `AUTO_INCREMENT=n`; else 1).
    pub auto_increment_start: u64,
}

/// A column as MariaDB's `DESCRIBE` shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct ColumnShape {
    pub name: String,
    /// MariaDB's spelling of its type: `int(11)`, `varchar(50)`, `int(10) unsigned`.
    pub mysql_type: String,
    pub nullable: bool,
    /// Its default as `DESCRIBE` prints it (`None`: NULL, or none).
    pub default: Option<String>,
    /// `auto_increment`, `on update current_timestamp()`, or empty.
    pub extra: String,
}

/// A primary or unique key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct TableKey {
    /// `PRIMARY`, or the unique key's name (MySQL's: the one given, else its first
    /// column's), as MySQL's 1062 `Duplicate entry ... for key '...'` names it.
    pub name: String,
    /// Its columns, as the table names them.
    pub columns: Vec<String>,
    pub primary: bool,
}

/// A table MySQL refuses to make: its error code and text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct RefusedTable {
    pub code: u16,
    pub message: String,
}

/// One word, number, punctuation mark, literal or quoted name of the statement.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Token {
    Word(String),
    Punct(char),
    Text(String),
    Name(String),
}

impl Token {
    pub(crate) fn is(&self, word: &str) -> bool {
        matches!(self, Token::Word(found) if found.eq_ignore_ascii_case(word))
    }

    /// A name: a word or a backquoted name.
    pub(crate) fn name(&self) -> Option<&str> {
        match self {
            Token::Word(name) | Token::Name(name) => Some(name),
            _ => None,
        }
    }
}

/// The statement `sql` (MySQL's dialect) rewritten, if it is a `CREATE TABLE` with a
/// column list; `None` otherwise (`CREATE TABLE t LIKE s`, `... AS SELECT`, `CREATE
/// TEMPORARY TABLE`, a list never closed: the caller's general rewrite takes them, and
/// gluesql answers).
pub(crate) fn create_table(sql: &str) -> Option<Result<CreateTable, RefusedTable>> {
    let tokens = tokens(sql)?;
    let open = tokens
        .iter()
        .position(|token| *token == Token::Punct('('))?;
    let (if_not_exists, name) = head(&tokens[..open])?;
    let close = closing(&tokens, open)?;
    let mut columns = Vec::new();
    let mut keys = Vec::new();
    let mut kept = Vec::new();
    let mut indexed = Vec::new();
    for item in split(&tokens[open + 1..close]) {
        match table_item(item)? {
            Item::Column(column) => columns.push(column),
            Item::Key(key) => keys.push(key),
            Item::Kept => kept.push(render(item)),
            Item::Dropped(first) => indexed.extend(first),
        }
    }
    if columns.is_empty() {
        return None;
    }
    let table = match name.as_slice() {
        [.., last] => last.name()?.to_owned(),
        [] => return None,
    };
    let keys = match resolve_keys(&mut columns, keys) {
        Ok(keys) => keys,
        Err(refused) => return Some(Err(refused)),
    };
    let auto_increment = columns
        .iter()
        .find(|column| column.auto_increment)
        .map(|column| column.name.clone());
    if let Some(auto) = &auto_increment {
        // MySQL: "there can be only one auto column and it must be defined as a key".
        let keyed = keys.iter().any(|key| key.columns[0] == *auto)
            || indexed.iter().any(|first| first.eq_ignore_ascii_case(auto));
        if !keyed
            || columns
                .iter()
                .filter(|column| column.auto_increment)
                .count()
                > 1
        {
            return Some(Err(RefusedTable {
                code: 1075,
                message: "Incorrect table definition; there can be only one auto column and it must be defined as a key".into(),
            }));
        }
    }
    let auto_increment_start = tokens[close + 1..]
        .windows(3)
        .find_map(|option| match option {
            [name, Token::Punct('='), Token::Word(value)] if name.is("auto_increment") => {
                value.parse::<u64>().ok()
            }
            _ => None,
        })
        .or_else(|| {
            tokens[close + 1..]
                .windows(2)
                .find_map(|option| match option {
                    [name, Token::Word(value)] if name.is("auto_increment") => value.parse().ok(),
                    _ => None,
                })
        })
        .unwrap_or(1)
        .max(1);
    let shapes = columns.iter().map(Column::shape).collect();
    let mut items: Vec<String> = columns.iter().map(Column::render).collect();
    items.extend(kept);
    let mut sql = format!(
        "CREATE TABLE {}{} ({})",
        if if_not_exists { "IF NOT EXISTS " } else { "" },
        render(&name),
        items.join(", ")
    );
    let rest = without_table_options(&tokens[close + 1..]);
    if !rest.is_empty() {
        sql = format!("{sql} {}", render(rest));
    }
    Some(Ok(CreateTable {
        table,
        sql,
        keys,
        columns: shapes,
        indexed,
        auto_increment,
        auto_increment_start,
    }))
}

/// `sql` as tokens: words (numbers with their decimal point), punctuation, literals and
/// backquoted names. `None`: a literal never closed.
pub(crate) fn tokens(sql: &str) -> Option<Vec<Token>> {
    let word = |c: char| c.is_alphanumeric() || c == '_' || c == '$';
    let mut out = Vec::new();
    for piece in dialect::pieces(sql)? {
        match piece {
            Piece::Text(value) => out.push(Token::Text(value)),
            Piece::Name(name) => out.push(Token::Name(name)),
            Piece::Code(code) => {
                let mut chars = code.chars().peekable();
                while let Some(c) = chars.next() {
                    if c.is_whitespace() {
                        continue;
                    }
                    if !word(c) {
                        out.push(Token::Punct(c));
                        continue;
                    }
                    let mut text = String::from(c);
                    let number = c.is_ascii_digit();
                    while let Some(&next) = chars.peek() {
                        if word(next) || (number && next == '.') {
                            text.push(next);
                            chars.next();
                        } else {
                            break;
                        }
                    }
                    out.push(Token::Word(text));
                }
            }
        }
    }
    Some(out)
}

/// Tokens back as the engine's SQL: literals standard, names in double quotes.
pub(crate) fn render(tokens: &[Token]) -> String {
    tokens
        .iter()
        .map(|token| match token {
            Token::Word(word) => word.clone(),
            Token::Punct(c) => c.to_string(),
            Token::Text(value) => dialect::literal(value),
            Token::Name(name) => dialect::identifier(name),
        })
        .collect::<Vec<_>>()
        .join(" ")
}

/// `CREATE TABLE [IF NOT EXISTS] name`: whether `IF NOT EXISTS` came, and the name's
/// tokens (`t`, or `db . t`).
fn head(tokens: &[Token]) -> Option<(bool, Vec<Token>)> {
    let [create, table, rest @ ..] = tokens else {
        return None;
    };
    if !create.is("create") || !table.is("table") {
        return None;
    }
    let (if_not_exists, name) = match rest {
        [i, n, e, name @ ..] if i.is("if") && n.is("not") && e.is("exists") => (true, name),
        name => (false, name),
    };
    let simple = match name {
        [one] => one.name().is_some(),
        [database, Token::Punct('.'), table] => database.name().is_some() && table.name().is_some(),
        _ => false,
    };
    simple.then(|| (if_not_exists, name.to_vec()))
}

/// The index of the `)` that closes the `(` at `open`.
pub(crate) fn closing(tokens: &[Token], open: usize) -> Option<usize> {
    let mut depth = 0usize;
    for (index, token) in tokens.iter().enumerate().skip(open) {
        match token {
            Token::Punct('(') => depth += 1,
            Token::Punct(')') => {
                depth -= 1;
                if depth == 0 {
                    return Some(index);
                }
            }
            _ => {}
        }
    }
    None
}

/// The items of a list: split at its commas outside parentheses.
pub(crate) fn split(tokens: &[Token]) -> Vec<&[Token]> {
    let mut items = Vec::new();
    let mut depth = 0usize;
    let mut start = 0;
    for (index, token) in tokens.iter().enumerate() {
        match token {
            Token::Punct('(') => depth += 1,
            Token::Punct(')') => depth = depth.saturating_sub(1),
            Token::Punct(',') if depth == 0 => {
                items.push(&tokens[start..index]);
                start = index + 1;
            }
            _ => {}
        }
    }
    items.push(&tokens[start..]);
    items
}

/// What an item of the column list is.
enum Item {
    Column(Column),
    Key(TableKey),
    /// Goes to gluesql as written (`FOREIGN KEY`, `CHECK`).
    Kept,
    /// An index, which changes no answer (its first column, for `DESCRIBE`).
    Dropped(Option<String>),
}

/// A column: its name, its type in gluesql's words, the attributes it keeps, and the key
/// attributes, set here or by a table-level key.
struct Column {
    name: String,
    kind: String,
    attributes: Vec<Token>,
    not_null: bool,
    primary: bool,
    unique: bool,
    auto_increment: bool,
    /// MariaDB's spelling of the type, for `DESCRIBE`.
    mysql_type: String,
    /// The default as `DESCRIBE` shows it.
    default: Option<String>,
    on_update: bool,
}

impl Column {
    fn shape(&self) -> ColumnShape {
        let mut extra = Vec::new();
        if self.auto_increment {
            extra.push("auto_increment");
        }
        if self.on_update {
            extra.push("on update current_timestamp()");
        }
        ColumnShape {
            name: self.name.clone(),
            mysql_type: self.mysql_type.clone(),
            nullable: !(self.not_null || self.primary),
            default: self.default.clone(),
            extra: extra.join(" "),
        }
    }

    fn render(&self) -> String {
        let mut text = format!("{} {}", dialect::identifier(&self.name), self.kind);
        if !self.attributes.is_empty() {
            text += &format!(" {}", render(&self.attributes));
        }
        if self.not_null && !self.primary {
            text += " NOT NULL";
        }
        if self.primary {
            text += " PRIMARY KEY";
        } else if self.unique {
            text += " UNIQUE";
        }
        text
    }
}

/// One item of the column list. `None`: one this cannot read (an empty one, a column
/// without a type), left to gluesql's parser by the caller.
fn table_item(item: &[Token]) -> Option<Item> {
    let mut rest = item;
    let mut symbol = None;
    if rest.first()?.is("constraint") {
        rest = &rest[1..];
        if let Some(name) = rest.first().filter(|token| {
            !["primary", "unique", "foreign", "check"]
                .iter()
                .any(|word| token.is(word))
        }) {
            symbol = Some(name.name()?.to_owned());
            rest = &rest[1..];
        }
    }
    let first = rest.first()?;
    if first.is("primary") && rest.get(1).is_some_and(|token| token.is("key")) {
        return Some(Item::Key(TableKey {
            name: "PRIMARY".into(),
            columns: key_columns(rest)?,
            primary: true,
        }));
    }
    if first.is("unique") {
        let mut after = &rest[1..];
        if after
            .first()
            .is_some_and(|token| token.is("key") || token.is("index"))
        {
            after = &after[1..];
        }
        let named = after
            .first()
            .filter(|token| !token.is("using"))
            .and_then(Token::name)
            .map(str::to_owned);
        let columns = key_columns(after)?;
        return Some(Item::Key(TableKey {
            name: named.or(symbol).unwrap_or_else(|| columns[0].clone()),
            columns,
            primary: false,
        }));
    }
    if ["key", "index", "fulltext", "spatial"]
        .iter()
        .any(|word| first.is(word))
    {
        let first_column = key_columns(rest).and_then(|columns| columns.into_iter().next());
        return Some(Item::Dropped(first_column));
    }
    if first.is("foreign") || first.is("check") {
        return Some(Item::Kept);
    }
    column(item).map(Item::Column)
}

/// The column names of a key: the first parenthesized list, each column without its
/// prefix length (`name(10)`) or order (`ASC`).
fn key_columns(tokens: &[Token]) -> Option<Vec<String>> {
    let open = tokens
        .iter()
        .position(|token| *token == Token::Punct('('))?;
    let close = closing(tokens, open)?;
    split(&tokens[open + 1..close])
        .into_iter()
        .map(|part| part.first().and_then(Token::name).map(str::to_owned))
        .collect()
}

/// A column definition.
fn column(item: &[Token]) -> Option<Column> {
    let [name, kind, rest @ ..] = item else {
        return None;
    };
    let name = name.name()?.to_owned();
    let Token::Word(kind) = kind else {
        return None;
    };
    // The type's arguments: `(11)`, `(10, 2)`, `('BTech', 'MTech')`.
    let mut rest = rest;
    let mut arguments: &[Token] = &[];
    if rest.first() == Some(&Token::Punct('(')) {
        let close = closing(rest, 0)?;
        arguments = &rest[..=close];
        rest = &rest[close + 1..];
    }
    let lower = kind.to_ascii_lowercase();
    if lower == "double" && rest.first().is_some_and(|token| token.is("precision")) {
        rest = &rest[1..];
    }
    let kind = match lower.as_str() {
        "tinyint" | "smallint" | "mediumint" | "int" | "integer" | "bigint" | "year" => {
            "INT".to_owned()
        }
        "char" | "varchar" | "nchar" | "nvarchar" | "tinytext" | "text" | "mediumtext"
        | "longtext" | "enum" | "set" | "json" => "TEXT".to_owned(),
        "decimal" | "numeric" | "dec" | "fixed" => "DECIMAL".to_owned(),
        "float" | "double" | "real" => "FLOAT".to_owned(),
        "datetime" | "timestamp" => "TIMESTAMP".to_owned(),
        "date" => "DATE".to_owned(),
        "time" => "TIME".to_owned(),
        _ => format!("{kind} {}", render(arguments)).trim().to_owned(),
    };
    let word = |at: usize, word: &str| rest.get(at).is_some_and(|token| token.is(word));
    let unsigned = (0..rest.len()).any(|at| word(at, "unsigned") || word(at, "zerofill"));
    let zerofill = (0..rest.len()).any(|at| word(at, "zerofill"));
    let mut column = Column {
        name,
        kind,
        attributes: Vec::new(),
        not_null: false,
        primary: false,
        unique: false,
        auto_increment: false,
        mysql_type: mysql_type(&lower, arguments, unsigned, zerofill),
        default: None,
        on_update: false,
    };
    let mut at = 0;
    while at < rest.len() {
        if word(at, "not") && word(at + 1, "null") {
            column.not_null = true;
            at += 2;
        } else if word(at, "auto_increment") {
            column.auto_increment = true;
            at += 1;
        } else if word(at, "null")
            || ["unsigned", "signed", "zerofill"]
                .iter()
                .any(|drop| word(at, drop))
        {
            at += 1;
        } else if word(at, "primary") {
            column.primary = true;
            at += 1 + usize::from(word(at + 1, "key"));
        } else if word(at, "key") {
            // MySQL: "PRIMARY KEY can also be specified as just KEY when given in a
            // column definition".
            column.primary = true;
            at += 1;
        } else if word(at, "unique") {
            column.unique = true;
            at += 1 + usize::from(word(at + 1, "key") || word(at + 1, "index"));
        } else if word(at, "character") && word(at + 1, "set") {
            at += 3;
        } else if word(at, "charset") || word(at, "collate") {
            at += 2;
        } else if word(at, "on") && word(at + 1, "update") {
            column.on_update = true;
            at = after_value(rest, at + 2);
        } else if word(at, "default") {
            let end = after_value(rest, at + 1);
            column.default = described_default(&rest[at + 1..end]);
            column.attributes.extend_from_slice(&rest[at..end]);
            at = end;
        } else {
            column.attributes.push(rest[at].clone());
            at += 1;
        }
    }
    Some(column)
}

/// MariaDB's spelling of a column type, as `DESCRIBE` shows it: `INT` is `int(11)`,
/// `INT UNSIGNED` `int(10) unsigned`, `BOOLEAN` `tinyint(1)`, `DECIMAL` `decimal(10,0)`.
fn mysql_type(lower: &str, arguments: &[Token], unsigned: bool, zerofill: bool) -> String {
    let inner = if arguments.len() >= 2 {
        &arguments[1..arguments.len() - 1]
    } else {
        arguments
    };
    let given: Vec<String> = split(inner)
        .into_iter()
        .filter(|part| !part.is_empty())
        .map(|part| {
            part.iter()
                .map(|token| match token {
                    Token::Text(value) => format!("'{}'", value.replace('\'', "''")),
                    Token::Word(word) => word.clone(),
                    Token::Name(name) => name.clone(),
                    Token::Punct(c) => c.to_string(),
                })
                .collect::<String>()
        })
        .collect();
    let width = |signed: u32, bare: u32| {
        given
            .first()
            .cloned()
            .unwrap_or_else(|| if unsigned { bare } else { signed }.to_string())
    };
    let base = match lower {
        "tinyint" => format!("tinyint({})", width(4, 3)),
        "smallint" => format!("smallint({})", width(6, 5)),
        "mediumint" => format!("mediumint({})", width(9, 8)),
        "int" | "integer" => format!("int({})", width(11, 10)),
        "bigint" => format!("bigint({})", width(20, 20)),
        "bool" | "boolean" => "tinyint(1)".to_owned(),
        "decimal" | "numeric" | "dec" | "fixed" => match given.as_slice() {
            [] => "decimal(10,0)".to_owned(),
            [precision] => format!("decimal({precision},0)"),
            [precision, scale, ..] => format!("decimal({precision},{scale})"),
        },
        "char" if given.is_empty() => "char(1)".to_owned(),
        "real" => "double".to_owned(),
        "json" => "longtext".to_owned(),
        "year" => "year(4)".to_owned(),
        other if given.is_empty() => other.to_owned(),
        other => format!("{other}({})", given.join(",")),
    };
    match (unsigned, zerofill) {
        (_, true) => format!("{base} unsigned zerofill"),
        (true, false) => format!("{base} unsigned"),
        _ => base,
    }
}

/// A column's `DEFAULT` value as `DESCRIBE` shows it: `NULL` none, a literal its value,
/// `CURRENT_TIMESTAMP` or `NOW()` `current_timestamp()`.
fn described_default(value: &[Token]) -> Option<String> {
    match value {
        [] => None,
        [word, ..] if word.is("null") => None,
        [word, ..] if word.is("current_timestamp") || word.is("now") => {
            Some("current_timestamp()".into())
        }
        [word] if word.is("true") => Some("1".into()),
        [word] if word.is("false") => Some("0".into()),
        [Token::Text(text)] => Some(text.clone()),
        tokens => Some(
            tokens
                .iter()
                .map(|token| match token {
                    Token::Word(word) => word.clone(),
                    Token::Punct(c) => c.to_string(),
                    Token::Text(text) => format!("'{text}'"),
                    Token::Name(name) => name.clone(),
                })
                .collect(),
        ),
    }
}

/// Where the value starting at `at` ends: a sign, a word or literal, and the
/// parenthesized arguments after it (`-1`, `'x'`, `CURRENT_TIMESTAMP(6)`, `NOW()`,
/// `(expr)`).
fn after_value(tokens: &[Token], mut at: usize) -> usize {
    if matches!(tokens.get(at), Some(Token::Punct('-' | '+'))) {
        at += 1;
    }
    if tokens.get(at) != Some(&Token::Punct('(')) {
        at += 1;
    }
    if tokens.get(at) == Some(&Token::Punct('(')) {
        at = closing(tokens, at).map_or(tokens.len(), |close| close + 1);
    }
    at.min(tokens.len())
}

/// The columns' own keys and the table-level ones together, checked as MySQL checks
/// them; the keys of one column set on it, the others' columns `NOT NULL` if primary.
fn resolve_keys(
    columns: &mut [Column],
    table_keys: Vec<TableKey>,
) -> Result<Vec<TableKey>, RefusedTable> {
    let mut keys: Vec<TableKey> = columns
        .iter()
        .filter(|column| column.primary || column.unique)
        .map(|column| TableKey {
            name: if column.primary {
                "PRIMARY".into()
            } else {
                column.name.clone()
            },
            columns: vec![column.name.clone()],
            primary: column.primary,
        })
        .collect();
    for mut key in table_keys {
        for name in &mut key.columns {
            let Some(column) = columns
                .iter()
                .find(|column| column.name.eq_ignore_ascii_case(name))
            else {
                return Err(RefusedTable {
                    code: 1072,
                    message: format!("Key column '{name}' doesn't exist in table"),
                });
            };
            // MySQL's column names ignore case; the key names the column as the table does.
            name.clone_from(&column.name);
        }
        keys.push(key);
    }
    if keys.iter().filter(|key| key.primary).count() > 1 {
        return Err(RefusedTable {
            code: 1068,
            message: "Multiple primary key defined".into(),
        });
    }
    for key in &keys {
        for name in &key.columns {
            let column = columns
                .iter_mut()
                .find(|column| column.name == *name)
                .expect("a key's columns are the table's");
            match (key.primary, key.columns.len()) {
                (true, 1) => column.primary = true,
                (false, 1) => column.unique = true,
                (true, _) => column.not_null = true,
                (false, _) => {}
            }
        }
    }
    keys.sort_by_key(|key| !key.primary);
    Ok(keys)
}

/// The tokens after the column list, without its leading table options (`ENGINE=InnoDB
/// DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci AUTO_INCREMENT=100 COMMENT='...'`,
/// commas between them allowed).
fn without_table_options(mut tokens: &[Token]) -> &[Token] {
    const OPTIONS: [&str; 16] = [
        "engine",
        "type",
        "auto_increment",
        "charset",
        "collate",
        "comment",
        "row_format",
        "key_block_size",
        "avg_row_length",
        "max_rows",
        "min_rows",
        "checksum",
        "pack_keys",
        "stats_persistent",
        "stats_auto_recalc",
        "delay_key_write",
    ];
    loop {
        let mut rest = tokens;
        if rest.first() == Some(&Token::Punct(',')) {
            rest = &rest[1..];
        }
        if rest.first().is_some_and(|token| token.is("default")) {
            rest = &rest[1..];
        }
        let name_length = match rest {
            [character, set, ..] if character.is("character") && set.is("set") => 2,
            [option, ..] if OPTIONS.iter().any(|name| option.is(name)) => 1,
            _ => return tokens,
        };
        rest = &rest[name_length..];
        if rest.first() == Some(&Token::Punct('=')) {
            rest = &rest[1..];
        }
        if rest.is_empty() {
            return tokens;
        }
        tokens = &rest[1..];
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rewritten(sql: &str) -> CreateTable {
        create_table(sql)
            .expect("a CREATE TABLE")
            .expect("accepted")
    }

    fn key(name: &str, columns: &[&str], primary: bool) -> TableKey {
        TableKey {
            name: name.into(),
            columns: columns.iter().map(|column| (*column).to_owned()).collect(),
            primary,
        }
    }

    #[test]
    fn a_table_level_primary_key_and_table_options_as_the_examiner_wrote_them() {
        let create = rewritten(
            "CREATE TABLE IF NOT EXISTS students (roll_no VARCHAR(16) NOT NULL, name VARCHAR(100) NOT NULL, semester INT NOT NULL, programme VARCHAR(32) NOT NULL, PRIMARY KEY (roll_no)) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4",
        );
        assert_eq!(create.table, "students");
        assert_eq!(
            create.sql,
            r#"CREATE TABLE IF NOT EXISTS students ("roll_no" TEXT PRIMARY KEY, "name" TEXT NOT NULL, "semester" INT NOT NULL, "programme" TEXT NOT NULL)"#
        );
        assert_eq!(create.keys, vec![key("PRIMARY", &["roll_no"], true)]);
    }

    #[test]
    fn keys_of_every_spelling_and_indexes() {
        let create = rewritten(
            "CREATE TABLE `enrolment` (
               `roll_no` CHAR(8) NOT NULL COMMENT 'the student''s roll',
               `course` varchar(10) CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci NOT NULL,
               `email` VARCHAR(64) DEFAULT NULL,
               `grade` ENUM('A', 'B', 'C') DEFAULT 'A',
               `marks` DECIMAL(5,2) UNSIGNED DEFAULT '0.00',
               `ratio` DOUBLE PRECISION, `weight` FLOAT(7,4),
               `born` DATE, `seen` DATETIME, `at` TIMESTAMP NULL DEFAULT CURRENT_TIMESTAMP ON UPDATE CURRENT_TIMESTAMP,
               `flags` TINYINT(1) ZEROFILL, `big` BIGINT(20) SIGNED, `small` SMALLINT, `notes` TEXT,
               CONSTRAINT `pk_enrolment` PRIMARY KEY USING BTREE (`roll_no`, course),
               UNIQUE KEY `uq_email` (`email`),
               CONSTRAINT uq_marks UNIQUE (marks, grade),
               KEY `idx_course` (`course`(4)), INDEX (born DESC), FULLTEXT KEY ft (notes)
             ) ENGINE = InnoDB AUTO_INCREMENT=100, DEFAULT CHARACTER SET = utf8mb4 COLLATE=utf8mb4_unicode_ci COMMENT='lab''s table'",
        );
        assert_eq!(
            create.sql.split(", \"").collect::<Vec<_>>(),
            [
                r#"CREATE TABLE "enrolment" ("roll_no" TEXT COMMENT 'the student''s roll' NOT NULL"#,
                r#"course" TEXT NOT NULL"#,
                r#"email" TEXT DEFAULT NULL UNIQUE"#,
                r#"grade" TEXT DEFAULT 'A'"#,
                r#"marks" DECIMAL DEFAULT '0.00'"#,
                r#"ratio" FLOAT"#,
                r#"weight" FLOAT"#,
                r#"born" DATE"#,
                r#"seen" TIMESTAMP"#,
                r#"at" TIMESTAMP DEFAULT CURRENT_TIMESTAMP"#,
                r#"flags" INT"#,
                r#"big" INT"#,
                r#"small" INT"#,
                r#"notes" TEXT)"#,
            ]
        );
        assert_eq!(
            create.keys,
            vec![
                key("PRIMARY", &["roll_no", "course"], true),
                key("uq_email", &["email"], false),
                key("uq_marks", &["marks", "grade"], false),
            ]
        );
    }

    #[test]
    fn column_keys_and_the_bare_key_attribute() {
        let create = rewritten(
            "create table t (id int(11) unsigned not null auto_increment key, code char(4) unique key, n int)",
        );
        assert_eq!(
            create.sql,
            r#"CREATE TABLE t ("id" INT PRIMARY KEY, "code" TEXT UNIQUE, "n" INT)"#
        );
        assert_eq!(
            create.keys,
            vec![key("PRIMARY", &["id"], true), key("code", &["code"], false)]
        );
    }

    #[test]
    fn mysqls_refusals_are_kept() {
        assert_eq!(
            create_table("CREATE TABLE t (a INT PRIMARY KEY, b INT, PRIMARY KEY (b))"),
            Some(Err(RefusedTable {
                code: 1068,
                message: "Multiple primary key defined".into()
            }))
        );
        assert_eq!(
            create_table("CREATE TABLE t (a INT, PRIMARY KEY (roll))"),
            Some(Err(RefusedTable {
                code: 1072,
                message: "Key column 'roll' doesn't exist in table".into()
            }))
        );
        // A key names its column in any case, and gets the table's spelling.
        assert_eq!(
            rewritten("CREATE TABLE t (Roll INT, PRIMARY KEY (roll))").keys,
            vec![key("PRIMARY", &["Roll"], true)]
        );
    }

    #[test]
    fn what_is_not_a_column_list_is_left_to_the_general_rewrite() {
        for sql in [
            "CREATE TABLE t AS SELECT COUNT(*) FROM s",
            "CREATE TEMPORARY TABLE t (a INT)",
            "CREATE TABLE t LIKE s",
            "CREATE TABLE t (a INT",
            "CREATE TABLE t (a INT,)",
            "INSERT INTO t VALUES (1)",
        ] {
            assert_eq!(create_table(sql), None, "{sql}");
        }
        // Foreign keys and checks go to gluesql as written; what follows the options too.
        assert_eq!(
            rewritten("CREATE TABLE t (a INT, CONSTRAINT fk FOREIGN KEY (a) REFERENCES s (id)) ENGINE=InnoDB SELECT 1").sql,
            r#"CREATE TABLE t ("a" INT, CONSTRAINT fk FOREIGN KEY ( a ) REFERENCES s ( id )) SELECT 1"#
        );
    }
}
