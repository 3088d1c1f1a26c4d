//! CSV whose every cell a spreadsheet opens as text, never as a formula.
//!
//! A gradebook's cells hold what submissions chose: a folder's name, a problem quoting it. A
//! class folder named `=HYPERLINK("https://…","grade")` would be a live formula in the
//! grader's spreadsheet (CSV injection). So a cell starting with a character a spreadsheet
//! reads as the start of a formula (`=`, `+`, `-`, `@`, tab, carriage return) is
//! neutralised the OWASP way
//! (<https://owasp.org/www-community/attacks/CSV_Injection>): a single quote `'` before it,
//! and the cell quoted (`"'=HYPERLINK(…)"`). The spreadsheet shows the text as written (the
//! quote marks it as text and is not shown); the harness's own cells (numbers, task names)
//! never start with one of them, and are written as before.
//!
//! Otherwise the file is RFC 4180 as the `csv` crate writes it: a cell is quoted when it
//! holds a comma, a double quote (doubled), a carriage return or a newline; rows end with
//! `\n`.

use std::borrow::Cow;

/// The characters that make a spreadsheet read a cell as a formula when it starts with one.
const FORMULA_STARTS: [char; 6] = ['=', '+', '-', '@', '\t', '\r'];

/// `cell` as a spreadsheet must read it: with a leading `'` when it would start a formula.
pub fn neutralized(cell: &str) -> Cow<'_, str> {
    if cell.starts_with(FORMULA_STARTS) {
        Cow::Owned(format!("'{cell}"))
    } else {
        Cow::Borrowed(cell)
    }
}

/// A CSV document, written row by row.
#[derive(Debug, Default)]
pub struct CsvText {
    text: String,
}

impl CsvText {
    /// An empty document.
    pub fn new() -> CsvText {
        CsvText::default()
    }

    /// Adds one row of `cells`, each [`neutralized`] and quoted as needed.
    pub fn row<Cell: AsRef<str>>(&mut self, cells: impl IntoIterator<Item = Cell>) {
        for (index, cell) in cells.into_iter().enumerate() {
            if index > 0 {
                self.text.push(',');
            }
            let cell = cell.as_ref();
            let shown = neutralized(cell);
            let quoted = matches!(shown, Cow::Owned(_)) || shown.contains([',', '"', '\r', '\n']);
            if quoted {
                self.text.push('"');
                self.text.push_str(&shown.replace('"', "\"\""));
                self.text.push('"');
            } else {
                self.text.push_str(&shown);
            }
        }
        self.text.push('\n');
    }

    /// The document's bytes.
    pub fn into_bytes(self) -> Vec<u8> {
        self.text.into_bytes()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The cells of `text`, read back as a spreadsheet would import them.
    fn read_back(text: &[u8]) -> Vec<Vec<String>> {
        csv::ReaderBuilder::new()
            .has_headers(false)
            .from_reader(text)
            .records()
            .map(|record| record.unwrap().iter().map(str::to_owned).collect())
            .collect()
    }

    #[test]
    fn a_cell_that_would_start_a_formula_is_quoted_text_and_others_are_as_the_csv_crate_writes_them()
     {
        let mut csv = CsvText::new();
        csv.row([
            "=HYPERLINK(\"https://evil.example\",\"grade\")",
            "alice",
            "Doe, Alice",
            "",
            "2",
        ]);
        csv.row(["+1", "-1", "@SUM(A1)", "\tx", "\rx", "    Points Possible"]);
        let text = String::from_utf8(csv.into_bytes()).unwrap();
        assert_eq!(
            text,
            "\"'=HYPERLINK(\"\"https://evil.example\"\",\"\"grade\"\")\",alice,\"Doe, Alice\",,2\n\
             \"'+1\",\"'-1\",\"'@SUM(A1)\",\"'\tx\",\"'\rx\",    Points Possible\n"
        );
    }

    #[test]
    fn any_cells_read_back_as_written_and_none_starts_a_formula() {
        // Every kind of character a cell may start with or hold, in many combinations.
        let alphabet = [
            "=", "+", "-", "@", "\t", "\r", "\n", ",", "\"", "'", " ", "a", "1", "é", "",
        ];
        let mut cells: Vec<String> = Vec::new();
        for first in alphabet {
            for second in alphabet {
                for third in alphabet {
                    cells.push(format!("{first}{second}{third}"));
                }
            }
        }
        // 15³ cells, five a row: no row of one empty cell, which CSV cannot tell from none.
        for row in cells.chunks(5) {
            let mut csv = CsvText::new();
            csv.row(row);
            let read = read_back(&csv.into_bytes());
            assert_eq!(read.len(), 1, "{row:?}");
            for (written, read) in row.iter().zip(&read[0]) {
                assert_eq!(read, neutralized(written).as_ref(), "{row:?}");
                assert!(!read.starts_with(FORMULA_STARTS), "{read:?}");
            }
        }
    }
}
