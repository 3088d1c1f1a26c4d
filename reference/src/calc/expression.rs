//! The arithmetic every calc server evaluates: a hand-written parser, never `eval()`.
//!
//! The handout's servers pass the client's line to Python's `eval()`, which runs *any*
//! Python: `__import__('os').system('rm -rf ~')` is an expression too (SPEC calc/2). This
//! parser knows numbers, `+ - * / % **` and parentheses, and nothing else, so nothing else
//! can run.
//!
//! ```text
//! sum     := product (('+' | '-') product)*
//! product := unary (('*' | '/' | '%') unary)*
//! unary   := ('+' | '-') unary | power
//! power   := atom ('**' unary)?          right-associative: 2**3**2 = 2**9
//! atom    := number | '(' sum ')'
//! number  := digits ['.' [digits]] | '.' digits
//! ```
//!
//! As in Python, `-2**2` is `-(2**2)`, `/` divides exactly (`7/2` is `3.5`) and `%` takes
//! the sign of the divisor (`-7 % 3` is `2`). Values are 64-bit floats: a result too large
//! for one (`9**9**9`) is an error found at once, not a number computed for minutes.

use std::fmt;

/// The deepest nesting of parentheses and signs taken: the parser recurses, and a line
/// of 4,000 `(` must not exhaust the stack.
pub const MAX_DEPTH: usize = 200;

/// Why a line has no value. Its `Display` is the reply's text after `error: `.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CalcError {
    /// Something that is not arithmetic, at this 1-based column.
    Syntax {
        /// The 1-based column of the line where it is.
        column: usize,
        /// What is wrong there.
        problem: String,
    },
    /// `x / 0` or `x % 0`.
    DivisionByZero,
    /// A value too large for a float (`9**9**9`), or no real value (`(-8)**0.5`).
    NotFinite,
    /// Parentheses or signs nested deeper than [`MAX_DEPTH`].
    TooDeep,
}

impl fmt::Display for CalcError {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            CalcError::Syntax { column, problem } => {
                write!(formatter, "{problem} at column {column}")
            }
            CalcError::DivisionByZero => write!(formatter, "division by zero"),
            CalcError::NotFinite => {
                write!(formatter, "the result is too large or not a real number")
            }
            CalcError::TooDeep => write!(formatter, "nested deeper than {MAX_DEPTH} levels"),
        }
    }
}

/// Evaluates one expression (a line without its end).
pub fn evaluate(text: &str) -> Result<f64, CalcError> {
    let mut parser = Parser {
        text: text.as_bytes(),
        position: 0,
        depth: 0,
    };
    let value = parser.sum()?;
    parser.skip_spaces();
    if parser.position < parser.text.len() {
        return Err(parser.unexpected());
    }
    Ok(value)
}

/// The reply line for one expression line, without its `\n`: the value, or `error: ...`.
pub fn reply(line: &[u8]) -> String {
    // Not UTF-8: not arithmetic either (every character of arithmetic is ASCII).
    let Ok(text) = std::str::from_utf8(line) else {
        return "error: the line is not text".to_owned();
    };
    match evaluate(text) {
        Ok(value) => format_value(value),
        Err(error) => format!("error: {error}"),
    }
}

/// How a value is printed: `3` rather than `3.0`, `0.30000000000000004` as Python prints
/// it (Rust's `Display` for floats is the shortest text that reads back the same value).
pub fn format_value(value: f64) -> String {
    // -0 is 0 to a reader.
    let value = if value == 0.0 { 0.0 } else { value };
    format!("{value}")
}

struct Parser<'t> {
    text: &'t [u8],
    position: usize,
    depth: usize,
}

impl Parser<'_> {
    fn sum(&mut self) -> Result<f64, CalcError> {
        let mut value = self.product()?;
        loop {
            match self.peek() {
                Some(b'+') => {
                    self.position += 1;
                    value = finite(value + self.product()?)?;
                }
                Some(b'-') => {
                    self.position += 1;
                    value = finite(value - self.product()?)?;
                }
                _ => return Ok(value),
            }
        }
    }

    fn product(&mut self) -> Result<f64, CalcError> {
        let mut value = self.unary()?;
        loop {
            match self.peek() {
                // `**` is a power, not a product: left for `power`, which saw it first.
                Some(b'*') if self.text.get(self.position + 1) != Some(&b'*') => {
                    self.position += 1;
                    value = finite(value * self.unary()?)?;
                }
                Some(b'/') => {
                    self.position += 1;
                    let divisor = self.unary()?;
                    if divisor == 0.0 {
                        return Err(CalcError::DivisionByZero);
                    }
                    value = finite(value / divisor)?;
                }
                Some(b'%') => {
                    self.position += 1;
                    let divisor = self.unary()?;
                    if divisor == 0.0 {
                        return Err(CalcError::DivisionByZero);
                    }
                    // Python's modulo: the result has the divisor's sign.
                    value = finite(value - divisor * (value / divisor).floor())?;
                }
                _ => return Ok(value),
            }
        }
    }

    fn unary(&mut self) -> Result<f64, CalcError> {
        match self.peek() {
            Some(sign @ (b'+' | b'-')) => {
                self.position += 1;
                let value = self.nested(Parser::unary)?;
                Ok(if sign == b'-' { -value } else { value })
            }
            _ => self.power(),
        }
    }

    fn power(&mut self) -> Result<f64, CalcError> {
        let base = self.atom()?;
        if self.peek() == Some(b'*') && self.text.get(self.position + 1) == Some(&b'*') {
            self.position += 2;
            // The exponent may have a sign (`2**-1`) and be a power itself (`2**3**2`).
            let exponent = self.nested(Parser::unary)?;
            if base == 0.0 && exponent < 0.0 {
                return Err(CalcError::DivisionByZero);
            }
            return finite(base.powf(exponent));
        }
        Ok(base)
    }

    fn atom(&mut self) -> Result<f64, CalcError> {
        match self.peek() {
            Some(b'(') => {
                self.position += 1;
                let value = self.nested(Parser::sum)?;
                if self.peek() != Some(b')') {
                    return Err(self.expected("`)`"));
                }
                self.position += 1;
                Ok(value)
            }
            Some(byte) if byte.is_ascii_digit() || byte == b'.' => self.number(),
            Some(_) => Err(self.unexpected()),
            None => Err(self.expected("a number or `(`")),
        }
    }

    fn number(&mut self) -> Result<f64, CalcError> {
        let start = self.position;
        let digits = |parser: &mut Parser| {
            let from = parser.position;
            while parser
                .text
                .get(parser.position)
                .is_some_and(u8::is_ascii_digit)
            {
                parser.position += 1;
            }
            parser.position - from
        };
        let whole = digits(self);
        let mut fraction = 0;
        if self.text.get(self.position) == Some(&b'.') {
            self.position += 1;
            fraction = digits(self);
        }
        if whole == 0 && fraction == 0 {
            self.position = start;
            return Err(self.expected("a number"));
        }
        // Only digits and one dot were taken: Rust's float parser reads them exactly.
        let text = std::str::from_utf8(&self.text[start..self.position]).expect("ASCII");
        let value: f64 = text.parse().map_err(|_| CalcError::Syntax {
            column: start + 1,
            problem: "not a number".into(),
        })?;
        finite(value)
    }

    /// Runs `rule` one level deeper, refusing to go past [`MAX_DEPTH`].
    fn nested(&mut self, rule: fn(&mut Self) -> Result<f64, CalcError>) -> Result<f64, CalcError> {
        if self.depth >= MAX_DEPTH {
            return Err(CalcError::TooDeep);
        }
        self.depth += 1;
        let value = rule(self);
        self.depth -= 1;
        value
    }

    /// The next byte that is not a space, without taking it.
    fn peek(&mut self) -> Option<u8> {
        self.skip_spaces();
        self.text.get(self.position).copied()
    }

    fn skip_spaces(&mut self) {
        while self
            .text
            .get(self.position)
            .is_some_and(|byte| *byte == b' ' || *byte == b'\t')
        {
            self.position += 1;
        }
    }

    fn unexpected(&self) -> CalcError {
        let shown = match self.text.get(self.position) {
            Some(byte) if byte.is_ascii_graphic() => format!("`{}`", *byte as char),
            Some(byte) => format!("byte 0x{byte:02x}"),
            None => "the end of the line".into(),
        };
        CalcError::Syntax {
            column: self.position + 1,
            problem: format!("unexpected {shown}"),
        }
    }

    fn expected(&self, what: &str) -> CalcError {
        CalcError::Syntax {
            column: self.position + 1,
            problem: format!("expected {what}"),
        }
    }
}

/// A value that no float can hold is an error, never `inf` or `NaN` on the wire.
fn finite(value: f64) -> Result<f64, CalcError> {
    if value.is_finite() {
        Ok(value)
    } else {
        Err(CalcError::NotFinite)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn arithmetic_as_python_does_it() {
        let cases = [
            ("1 + 2", "3"),
            ("2 * (3 + 4)", "14"),
            ("7 / 2", "3.5"),
            ("-7 % 3", "2"),
            ("7 % -3", "-2"),
            ("2 ** 3 ** 2", "512"),
            ("-2 ** 2", "-4"),
            ("2 ** -1", "0.5"),
            ("0.1 + 0.2", "0.30000000000000004"),
            ("10 / 3", "3.3333333333333335"),
            // 17 significant digits, then zeros: Python prints the exact integer, equal to
            // this one within SPEC calc/1's relative tolerance (1e-9).
            ("2 ** 100", "1267650600228229400000000000000"),
            (".5 + 1.", "1.5"),
            ("  ((1))  ", "1"),
            ("-0", "0"),
            ("--3", "3"),
        ];
        for (line, expected) in cases {
            assert_eq!(reply(line.as_bytes()), expected, "{line}");
        }
    }

    #[test]
    fn everything_else_is_an_error_line() {
        for line in [
            "__import__('os').system('touch pwned')",
            "1 / 0",
            "5 % 0",
            "0 ** -1",
            "9**9**9",
            "(-8) ** 0.5",
            "1 +",
            "(1",
            "1)",
            "1 2",
            "2 // 3",
            "abs(-1)",
            "1e5",
            ".",
            "",
        ] {
            assert!(reply(line.as_bytes()).starts_with("error: "), "{line}");
        }
        assert!(reply(&[0xff, b'1']).starts_with("error: "));
        let deep = "(".repeat(4000) + "1" + &")".repeat(4000);
        assert_eq!(
            reply(deep.as_bytes()),
            format!("error: nested deeper than {MAX_DEPTH} levels")
        );
        assert!(reply("-".repeat(4000).as_bytes()).starts_with("error: "));
    }
}
