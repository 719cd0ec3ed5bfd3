//! A strict pull parser for the part of TOML 1.0 the configuration file is written in.
//!
//! [`Parser::next`] reads the text up to the next [`Event`]: a table header (`[host]`,
//! `[[forward]]`) or a key (`port =`), whose [`Value`] [`Parser::value`] reads next. A value is a
//! [`Scalar`] — a string (basic or literal, single- or multi-line, with every TOML escape), an
//! integer (decimal with `_` and a sign, hexadecimal, octal, binary; 64 bits) or a boolean — or an
//! array of scalars (over several lines, with a trailing comma and comments; the types may mix, as
//! TOML allows). Comments, blank lines, CRLF and a leading byte order mark are taken as TOML takes
//! them.
//!
//! Nothing is kept between events: there is no document tree, keys and strings without escapes are
//! borrowed from the text, and the only allocations are escaped strings and arrays. Duplicate keys
//! and redefined tables are for the caller to find: it knows its few keys.
//!
//! What TOML has but the configuration never uses is refused with [`ErrorKind::Unsupported`] naming
//! it, at the line it is on: floats, dates and times, inline tables, dotted keys, sub-tables,
//! nested arrays, and arrays of more than 65,535 values. So values never nest and the parser never recurses, and it never panics: every
//! problem is a [`ParseError`] at a byte offset of the text ([`line_column`] turns it into the line
//! and column people count).

use std::borrow::Cow;
use std::fmt;

/// The UTF-8 byte order mark, skipped at the start of the text.
const BOM: &str = "\u{feff}";

/// The most values an array holds: no key of the configuration has a use for more (there are
/// 65,535 ports), and it bounds what an array costs before its values are checked.
const MAX_ARRAY_LEN: usize = 65_535;

/// The most characters of a word quoted in an error message.
const MAX_SHOWN: usize = 40;

/// What the next line of the text holds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Event<'a> {
    /// A table header: `[name]`, or `[[name]]` (`array`) for the next table of an array of tables.
    Table {
        /// The table's key.
        name: Cow<'a, str>,
        /// `[[name]]`.
        array: bool,
        /// Byte offset of the opening bracket.
        at: usize,
    },
    /// `name =`: the value follows, to be read with [`Parser::value`] before the next event.
    Key {
        /// The key.
        name: Cow<'a, str>,
        /// Byte offset of the key.
        at: usize,
    },
}

/// A single value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Scalar<'a> {
    /// Any of the four kinds of string, escapes resolved.
    String(Cow<'a, str>),
    /// An integer.
    Integer(i64),
    /// `true` or `false`.
    Boolean(bool),
}

/// The value of a key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Value<'a> {
    /// A single value.
    Scalar(Scalar<'a>),
    /// An array of single values.
    Array(Vec<Scalar<'a>>),
}

/// Why the text is not (natkeeper's) TOML, at a byte offset.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct ParseError {
    /// Byte offset in the text.
    pub(crate) at: usize,
    /// What is wrong there.
    pub(crate) kind: ErrorKind,
}

/// What is wrong.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub(crate) enum ErrorKind {
    /// Something other than what the grammar allows here.
    #[error("expected {what}, found {found}")]
    Expected {
        /// What the grammar allows.
        what: &'static str,
        /// What is there.
        found: Found,
    },
    /// A control character outside a string's escapes (TOML allows only tab, and newlines in
    /// multi-line strings).
    #[error("control character {} is not allowed (in a basic string, write it as \\u{:04X})", Codepoint(*.0), u32::from(*.0))]
    ControlCharacter(char),
    /// A string that does not end (single-line strings end on their line).
    #[error("this {0} does not end")]
    Unterminated(&'static str),
    /// An escape TOML does not have.
    #[error("invalid escape sequence `\\{}` (TOML has \\b \\t \\n \\f \\r \\\" \\\\ \\uXXXX \\UXXXXXXXX)", Shown(.0))]
    InvalidEscape(String),
    /// A `\u`/`\U` escape that is not a Unicode scalar value.
    #[error("invalid unicode escape `{}` (hex digits of a Unicode scalar value expected)", Shown(.0))]
    InvalidUnicode(String),
    /// A malformed integer.
    #[error("invalid integer `{}`: {reason}", Shown(word))]
    InvalidInteger {
        /// The integer as written.
        word: String,
        /// What is wrong with it.
        reason: &'static str,
    },
    /// An integer outside the 64-bit signed range.
    #[error("integer `{}` does not fit in 64 bits", Shown(.0))]
    TooLarge(String),
    /// A bare word that is no value.
    #[error("`{}` is not a value (a string is quoted: \"{}\")", Shown(.0), Shown(.0))]
    NotAValue(String),
    /// A TOML feature the configuration does not use.
    #[error("{0} are not supported in natkeeper's configuration")]
    Unsupported(&'static str),
    /// A position inside a character: a bug in this parser, reported rather than panicking.
    #[error("internal error: byte {0} is inside a character")]
    Internal(usize),
}

/// What the parser found where it expected something else.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Found {
    /// The end of the text.
    End,
    /// The end of a line.
    Newline,
    /// A character.
    Char(char),
}

impl fmt::Display for Found {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Found::End => f.write_str("the end of the file"),
            Found::Newline => f.write_str("the end of the line"),
            Found::Char(c) if c.is_control() => write!(f, "{}", Codepoint(*c)),
            Found::Char(c) => write!(f, "`{}`", c.escape_debug()),
        }
    }
}

/// A character as `U+0001`.
struct Codepoint(char);

impl fmt::Display for Codepoint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "U+{:04X}", u32::from(self.0))
    }
}

/// Text from the file as shown in a message: on one line, and cut after [`MAX_SHOWN`] characters.
pub(crate) struct Shown<'s>(pub(crate) &'s str);

impl fmt::Display for Shown<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for c in self.0.chars().take(MAX_SHOWN) {
            write!(f, "{}", c.escape_debug())?;
        }
        if self.0.chars().nth(MAX_SHOWN).is_some() {
            f.write_str("…")?;
        }
        Ok(())
    }
}

/// The 1-based line and column (in characters, as editors count) of byte offset `at`.
pub(crate) fn line_column(text: &str, at: usize) -> (usize, usize) {
    let before = text.as_bytes().get(..at).unwrap_or(text.as_bytes());
    let line_start = before.iter().rposition(|&b| b == b'\n').map_or(0, |i| i + 1);
    let line = 1 + before.iter().filter(|&&b| b == b'\n').count();
    let this_line = before.get(line_start..).unwrap_or_default();
    // Count characters, not bytes: every byte but UTF-8's continuation bytes starts one.
    let column = 1 + this_line.iter().filter(|&&b| b & 0xc0 != 0x80).count();
    (line, column)
}

/// A TOML control character: not allowed raw in strings or comments (tab is allowed; newlines
/// are the caller's to handle).
fn is_control(b: u8) -> bool {
    (b < 0x20 && b != b'\t') || b == 0x7f
}

/// A byte of a bare key.
fn is_bare(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b == b'_' || b == b'-'
}

/// A byte of a bare value: booleans, integers, and the floats and dates refused by name.
fn is_word(b: u8) -> bool {
    b.is_ascii_alphanumeric() || matches!(b, b'_' | b'-' | b'+' | b'.' | b':')
}

/// A string's content being read: borrowed from the text until an escape or a CRLF forces a copy.
struct Content {
    /// The escaped content so far (`None` while no copy was needed).
    owned: Option<String>,
    /// Where the text not yet copied starts.
    run: usize,
}

impl Content {
    fn new(run: usize) -> Content {
        Content { owned: None, run }
    }

    /// Copies the text up to `to`, then appends `c` (an escape's character) and skips to `next`.
    fn push<'a>(
        &mut self,
        p: &Parser<'a>,
        to: usize,
        c: Option<char>,
        next: usize,
    ) -> Result<(), ParseError> {
        let owned = self.owned.get_or_insert_with(String::new);
        owned.push_str(p.slice(self.run, to)?);
        if let Some(c) = c {
            owned.push(c);
        }
        self.run = next;
        Ok(())
    }

    /// The content, ending at `to`.
    fn finish<'a>(self, p: &Parser<'a>, to: usize) -> Result<Cow<'a, str>, ParseError> {
        let rest = p.slice(self.run, to)?;
        Ok(match self.owned {
            None => Cow::Borrowed(rest),
            Some(mut owned) => {
                owned.push_str(rest);
                Cow::Owned(owned)
            }
        })
    }
}

/// The parser: a position in the text.
#[derive(Debug, Clone)]
pub(crate) struct Parser<'a> {
    text: &'a str,
    pos: usize,
}

impl<'a> Parser<'a> {
    /// A parser at the start of `text`.
    pub(crate) fn new(text: &'a str) -> Parser<'a> {
        let pos = if text.starts_with(BOM) { BOM.len() } else { 0 };
        Parser { text, pos }
    }

    /// The next table header or key, or `None` at the end of the text.
    pub(crate) fn next(&mut self) -> Result<Option<Event<'a>>, ParseError> {
        loop {
            self.skip_blanks();
            match self.peek() {
                None => return Ok(None),
                Some(b'#' | b'\n' | b'\r') => self.end_of_line()?,
                Some(b'[') => return self.header().map(Some),
                Some(_) => {
                    let at = self.pos;
                    let name = self.key()?;
                    self.expect(b'=', "`=`")?;
                    self.skip_blanks();
                    return Ok(Some(Event::Key { name, at }));
                }
            }
        }
    }

    /// The value after an [`Event::Key`], and the byte offset it starts at.
    pub(crate) fn value(&mut self) -> Result<(usize, Value<'a>), ParseError> {
        let at = self.pos;
        let value = if self.peek() == Some(b'[') {
            Value::Array(self.array()?)
        } else {
            Value::Scalar(self.scalar()?)
        };
        self.end_of_line()?;
        Ok((at, value))
    }

    // ---- lines, blanks and comments ----

    fn peek(&self) -> Option<u8> {
        self.peek_at(0)
    }

    fn peek_at(&self, n: usize) -> Option<u8> {
        self.text.as_bytes().get(self.pos.saturating_add(n)).copied()
    }

    /// Moves past the bytes that `keep` takes.
    fn skip_while(&mut self, keep: impl Fn(u8) -> bool) {
        let rest = self.text.as_bytes().get(self.pos..).unwrap_or_default();
        self.pos += rest.iter().position(|&b| !keep(b)).unwrap_or(rest.len());
    }

    /// The text from `from` to `to` (both always on character boundaries: after ASCII bytes).
    fn slice(&self, from: usize, to: usize) -> Result<&'a str, ParseError> {
        match self.text.get(from..to) {
            Some(s) => Ok(s),
            None => Err(ParseError { at: from, kind: ErrorKind::Internal(to) }),
        }
    }

    fn error(&self, kind: ErrorKind) -> ParseError {
        ParseError { at: self.pos, kind }
    }

    fn expected(&self, what: &'static str) -> ParseError {
        let found = match self.text.get(self.pos..).and_then(|rest| rest.chars().next()) {
            None => Found::End,
            Some('\n') => Found::Newline,
            Some(c) => Found::Char(c),
        };
        self.error(ErrorKind::Expected { what, found })
    }

    fn expect(&mut self, byte: u8, what: &'static str) -> Result<(), ParseError> {
        if self.peek() == Some(byte) {
            self.pos += 1;
            Ok(())
        } else {
            Err(self.expected(what))
        }
    }

    /// Spaces and tabs.
    fn skip_blanks(&mut self) {
        self.skip_while(|b| b == b' ' || b == b'\t');
    }

    /// A newline (LF or CRLF), if there is one.
    fn newline(&mut self) -> bool {
        match (self.peek(), self.peek_at(1)) {
            (Some(b'\n'), _) => self.pos += 1,
            (Some(b'\r'), Some(b'\n')) => self.pos += 2,
            _ => return false,
        }
        true
    }

    /// A comment from its `#` up to (not including) the end of the line.
    fn comment(&mut self) -> Result<(), ParseError> {
        self.pos += 1;
        loop {
            match self.peek() {
                None | Some(b'\n' | b'\r') => return Ok(()),
                Some(b) if is_control(b) => {
                    return Err(self.error(ErrorKind::ControlCharacter(char::from(b))));
                }
                Some(_) => self.skip_while(|b| !is_control(b)),
            }
        }
    }

    /// Blanks and a comment, then the end of the line (or of the text).
    fn end_of_line(&mut self) -> Result<(), ParseError> {
        self.skip_blanks();
        if self.peek() == Some(b'#') {
            self.comment()?;
        }
        if self.peek().is_none() || self.newline() {
            Ok(())
        } else {
            Err(self.expected("the end of the line"))
        }
    }

    /// Blanks, comments and newlines, as between the values of an array.
    fn skip_space(&mut self) -> Result<(), ParseError> {
        loop {
            self.skip_blanks();
            if self.peek() == Some(b'#') {
                self.comment()?;
            }
            if !self.newline() {
                return Ok(());
            }
        }
    }

    // ---- keys and headers ----

    /// `[name]` or `[[name]]`, and the rest of its line.
    fn header(&mut self) -> Result<Event<'a>, ParseError> {
        let at = self.pos;
        self.pos += 1;
        let array = self.peek() == Some(b'[');
        if array {
            self.pos += 1;
        }
        self.skip_blanks();
        let name = self.simple_key()?;
        self.skip_blanks();
        if self.peek() == Some(b'.') {
            return Err(self.error(ErrorKind::Unsupported("sub-tables ([a.b])")));
        }
        let close = if array { "`]]`" } else { "`]`" };
        self.expect(b']', close)?;
        if array {
            self.expect(b']', close)?;
        }
        self.end_of_line()?;
        Ok(Event::Table { name, array, at })
    }

    /// A key before `=`, and the blanks after it.
    fn key(&mut self) -> Result<Cow<'a, str>, ParseError> {
        let name = self.simple_key()?;
        self.skip_blanks();
        if self.peek() == Some(b'.') {
            return Err(self.error(ErrorKind::Unsupported("dotted keys (a.b = …)")));
        }
        Ok(name)
    }

    /// A bare or quoted key (quoted keys are single-line strings).
    fn simple_key(&mut self) -> Result<Cow<'a, str>, ParseError> {
        match self.peek() {
            Some(b'"') => self.basic_string(),
            Some(b'\'') => self.literal_string(),
            _ => {
                let start = self.pos;
                self.skip_while(is_bare);
                if self.pos == start {
                    return Err(self.expected("a key"));
                }
                self.slice(start, self.pos).map(Cow::Borrowed)
            }
        }
    }

    // ---- values ----

    /// `[a, b, …]`: scalars only.
    fn array(&mut self) -> Result<Vec<Scalar<'a>>, ParseError> {
        self.pos += 1;
        let mut items = Vec::new();
        loop {
            self.skip_space()?;
            if self.peek() == Some(b']') {
                self.pos += 1;
                return Ok(items);
            }
            if items.len() == MAX_ARRAY_LEN {
                return Err(self.error(ErrorKind::Unsupported("arrays of more than 65,535 values")));
            }
            items.push(self.scalar()?);
            self.skip_space()?;
            match self.peek() {
                Some(b',') => self.pos += 1,
                Some(b']') => {
                    self.pos += 1;
                    return Ok(items);
                }
                _ => return Err(self.expected("`,` or `]`")),
            }
        }
    }

    fn scalar(&mut self) -> Result<Scalar<'a>, ParseError> {
        match self.peek() {
            Some(b'"') if self.text.get(self.pos..).is_some_and(|r| r.starts_with("\"\"\"")) => {
                self.multi_line_string(b'"').map(Scalar::String)
            }
            Some(b'"') => self.basic_string().map(Scalar::String),
            Some(b'\'') if self.text.get(self.pos..).is_some_and(|r| r.starts_with("'''")) => {
                self.multi_line_string(b'\'').map(Scalar::String)
            }
            Some(b'\'') => self.literal_string().map(Scalar::String),
            Some(b'[') => Err(self.error(ErrorKind::Unsupported("nested arrays"))),
            Some(b'{') => Err(self.error(ErrorKind::Unsupported("inline tables ({ … })"))),
            Some(b) if is_word(b) => self.word(),
            _ => Err(self.expected("a value")),
        }
    }

    /// A boolean or an integer (floats and dates are refused by name).
    fn word(&mut self) -> Result<Scalar<'a>, ParseError> {
        let at = self.pos;
        self.skip_while(is_word);
        let word = self.slice(at, self.pos)?;
        let error = |kind| ParseError { at, kind };
        let invalid = |reason| error(ErrorKind::InvalidInteger { word: word.to_string(), reason });
        match word {
            "true" => return Ok(Scalar::Boolean(true)),
            "false" => return Ok(Scalar::Boolean(false)),
            _ => {}
        }
        let (negative, body) = match word.strip_prefix('-') {
            Some(body) => (true, body),
            None => (false, word.strip_prefix('+').unwrap_or(word)),
        };
        if matches!(body, "inf" | "nan") {
            return Err(error(ErrorKind::Unsupported("floats")));
        }
        let Some(first) = body.bytes().next().filter(u8::is_ascii_digit) else {
            return Err(error(ErrorKind::NotAValue(word.to_string())));
        };
        let radix = match body.get(..2) {
            Some("0x") => Some(16),
            Some("0o") => Some(8),
            Some("0b") => Some(2),
            _ => None,
        };
        let magnitude = if let (Some(radix), Some(digits)) = (radix, body.get(2..)) {
            if body.len() != word.len() {
                return Err(invalid("hexadecimal, octal and binary integers take no sign"));
            }
            digits_value(digits, radix).map_err(invalid)?
        } else if body.bytes().any(|b| b == b':' || b == b'-') {
            return Err(error(ErrorKind::Unsupported("dates and times")));
        } else if body.bytes().any(|b| b == b'.' || b == b'e' || b == b'E') {
            return Err(error(ErrorKind::Unsupported("floats")));
        } else if first == b'0' && body.len() > 1 {
            return Err(invalid("leading zeros are not allowed"));
        } else {
            digits_value(body, 10).map_err(invalid)?
        };
        let value = magnitude
            .and_then(|m| if negative { 0i64.checked_sub_unsigned(m) } else { i64::try_from(m).ok() });
        value.map(Scalar::Integer).ok_or_else(|| error(ErrorKind::TooLarge(word.to_string())))
    }

    /// `"…"`, at its opening quote.
    fn basic_string(&mut self) -> Result<Cow<'a, str>, ParseError> {
        let at = self.pos;
        self.pos += 1;
        let start = self.pos;
        self.skip_while(|b| b != b'"' && b != b'\\' && !is_control(b));
        if self.peek() == Some(b'"') {
            // No escape: the usual case.
            let s = self.slice(start, self.pos)?;
            self.pos += 1;
            return Ok(Cow::Borrowed(s));
        }
        let mut content = Content::new(start);
        loop {
            match self.peek() {
                None | Some(b'\n' | b'\r') => {
                    return Err(ParseError { at, kind: ErrorKind::Unterminated("string") });
                }
                Some(b'"') => {
                    let s = content.finish(self, self.pos)?;
                    self.pos += 1;
                    return Ok(s);
                }
                Some(b'\\') => self.escape(&mut content)?,
                Some(b) if is_control(b) => {
                    return Err(self.error(ErrorKind::ControlCharacter(char::from(b))));
                }
                Some(_) => self.skip_while(|b| b != b'"' && b != b'\\' && !is_control(b)),
            }
        }
    }

    /// `'…'`, at its opening quote.
    fn literal_string(&mut self) -> Result<Cow<'a, str>, ParseError> {
        let at = self.pos;
        self.pos += 1;
        let start = self.pos;
        loop {
            match self.peek() {
                None | Some(b'\n' | b'\r') => {
                    return Err(ParseError { at, kind: ErrorKind::Unterminated("literal string") });
                }
                Some(b'\'') => {
                    let s = self.slice(start, self.pos)?;
                    self.pos += 1;
                    return Ok(Cow::Borrowed(s));
                }
                Some(b) if is_control(b) => {
                    return Err(self.error(ErrorKind::ControlCharacter(char::from(b))));
                }
                Some(_) => self.skip_while(|b| b != b'\'' && !is_control(b)),
            }
        }
    }

    /// `"""…"""` (`quote` `"`, with escapes) or `'''…'''` (`quote` `'`), at the opening quotes.
    /// A newline right after the opening quotes is not content; CRLF in the content becomes LF.
    fn multi_line_string(&mut self, quote: u8) -> Result<Cow<'a, str>, ParseError> {
        let at = self.pos;
        let what = if quote == b'"' { "multi-line string" } else { "multi-line literal string" };
        self.pos += 3;
        self.newline();
        let mut content = Content::new(self.pos);
        loop {
            match self.peek() {
                None => return Err(ParseError { at, kind: ErrorKind::Unterminated(what) }),
                Some(b) if b == quote => {
                    // One or two quotes are content; three end the string, and up to two more
                    // before them are content too.
                    let mut run = 1;
                    while run < 5 && self.peek_at(run) == Some(quote) {
                        run += 1;
                    }
                    if run >= 3 {
                        let s = content.finish(self, self.pos + run - 3)?;
                        self.pos += run;
                        return Ok(s);
                    }
                    self.pos += run;
                }
                Some(b'\\') if quote == b'"' => {
                    if self.line_ending_backslash() {
                        content.push(self, self.pos, None, self.pos)?;
                        self.pos += 1;
                        loop {
                            self.skip_blanks();
                            if !self.newline() {
                                break;
                            }
                        }
                        content.run = self.pos;
                    } else {
                        self.escape(&mut content)?;
                    }
                }
                Some(b'\r') if self.peek_at(1) == Some(b'\n') => {
                    content.push(self, self.pos, Some('\n'), self.pos + 2)?;
                    self.pos += 2;
                }
                Some(b'\n') => self.pos += 1,
                Some(b) if is_control(b) => {
                    return Err(self.error(ErrorKind::ControlCharacter(char::from(b))));
                }
                // Up to the next byte one of the arms above takes (so at least one byte).
                Some(_) => {
                    self.skip_while(|b| b != quote && !(quote == b'"' && b == b'\\') && !is_control(b))
                }
            }
        }
    }

    /// At a `\`: only blanks follow it on its line.
    fn line_ending_backslash(&self) -> bool {
        let mut n = 1;
        while matches!(self.peek_at(n), Some(b' ' | b'\t')) {
            n += 1;
        }
        matches!((self.peek_at(n), self.peek_at(n + 1)), (Some(b'\n'), _) | (Some(b'\r'), Some(b'\n')))
    }

    /// An escape, at its `\`: resolved into `content`.
    fn escape(&mut self, content: &mut Content) -> Result<(), ParseError> {
        let at = self.pos;
        let simple = match self.peek_at(1) {
            Some(b'b') => Some('\u{8}'),
            Some(b't') => Some('\t'),
            Some(b'n') => Some('\n'),
            Some(b'f') => Some('\u{c}'),
            Some(b'r') => Some('\r'),
            Some(b'"') => Some('"'),
            Some(b'\\') => Some('\\'),
            _ => None,
        };
        let (c, len) = match (simple, self.peek_at(1)) {
            (Some(c), _) => (c, 2),
            (None, Some(b'u')) => (self.unicode(4)?, 6),
            (None, Some(b'U')) => (self.unicode(8)?, 10),
            (None, _) => {
                let escape = self.text.get(at + 1..).and_then(|r| r.chars().next()).map(String::from);
                return Err(self.error(ErrorKind::InvalidEscape(escape.unwrap_or_default())));
            }
        };
        content.push(self, at, Some(c), at + len)?;
        self.pos = at + len;
        Ok(())
    }

    /// The character of a `\u` (`digits` 4) or `\U` (8) escape at the parser's position.
    fn unicode(&self, digits: usize) -> Result<char, ParseError> {
        let hex = self.text.as_bytes().get(self.pos + 2..self.pos + 2 + digits);
        let code = hex
            .filter(|h| h.iter().all(u8::is_ascii_hexdigit))
            .and_then(|h| std::str::from_utf8(h).ok())
            .and_then(|h| u32::from_str_radix(h, 16).ok());
        code.and_then(char::from_u32).ok_or_else(|| {
            let shown: String =
                self.text.get(self.pos..).unwrap_or_default().chars().take(2 + digits).collect();
            self.error(ErrorKind::InvalidUnicode(shown))
        })
    }
}

/// The value of `digits` in `radix`, with TOML's underscores (each between two digits); `None`
/// when it does not fit in 64 bits.
fn digits_value(digits: &str, radix: u32) -> Result<Option<u64>, &'static str> {
    let mut value: Option<u64> = Some(0);
    let mut after_digit = false;
    for c in digits.chars() {
        if c == '_' {
            if !after_digit {
                return Err("an underscore must be between two digits");
            }
            after_digit = false;
            continue;
        }
        let d = c.to_digit(radix).ok_or(match radix {
            16 => "not a hexadecimal digit",
            8 => "not an octal digit",
            2 => "not a binary digit",
            _ => "not a digit",
        })?;
        value = value.and_then(|v| v.checked_mul(u64::from(radix))?.checked_add(u64::from(d)));
        after_digit = true;
    }
    if !after_digit {
        return Err(if digits.is_empty() { "no digits" } else { "an underscore must be between two digits" });
    }
    Ok(value)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every event of `text`, each key with its value.
    fn read(text: &str) -> Result<Vec<(Event<'_>, Option<Value<'_>>)>, ParseError> {
        let mut p = Parser::new(text);
        let mut out = Vec::new();
        while let Some(e) = p.next()? {
            let value = match e {
                Event::Key { .. } => Some(p.value()?.1),
                Event::Table { .. } => None,
            };
            out.push((e, value));
        }
        Ok(out)
    }

    /// The one value of `key = <value>`.
    fn value(v: &str) -> Result<Value<'_>, ErrorKind> {
        let text = format!("k = {v}\n");
        let mut p = Parser::new(&text);
        p.next().map_err(|e| e.kind)?;
        let (_, value) = p.value().map_err(|e| e.kind)?;
        assert_eq!(p.next().map_err(|e| e.kind)?, None);
        // Give the value the lifetime of `v` (tests only compare it).
        Ok(match value {
            Value::Scalar(s) => Value::Scalar(owned(s)),
            Value::Array(items) => Value::Array(items.into_iter().map(owned).collect()),
        })
    }

    fn owned<'b>(s: Scalar<'_>) -> Scalar<'b> {
        match s {
            Scalar::String(s) => Scalar::String(Cow::Owned(s.into_owned())),
            Scalar::Integer(n) => Scalar::Integer(n),
            Scalar::Boolean(b) => Scalar::Boolean(b),
        }
    }

    fn string(s: &str) -> Result<Value<'static>, ErrorKind> {
        Ok(Value::Scalar(Scalar::String(Cow::Owned(s.to_string()))))
    }

    fn int(n: i64) -> Result<Value<'static>, ErrorKind> {
        Ok(Value::Scalar(Scalar::Integer(n)))
    }

    #[test]
    fn a_configuration_reads_as_events() {
        let text = "\u{feff}# c\n[[forward]] # c\r\n  port = [80, \"81-82\",\n  # c\n  ]\n\t'to'=\"10.0.0.1\"\n\n[ host ]\n\"a\\u0062\" = true";
        let events = read(text).unwrap();
        let key = |name: &'static str, at| Event::Key { name: Cow::Borrowed(name), at };
        let at = |s: &str| text.find(s).unwrap();
        assert_eq!(
            events,
            vec![
                (Event::Table { name: Cow::Borrowed("forward"), array: true, at: at("[[") }, None),
                (
                    key("port", at("port")),
                    Some(Value::Array(vec![Scalar::Integer(80), Scalar::String(Cow::Borrowed("81-82"))]))
                ),
                (key("to", at("'to'")), Some(Value::Scalar(Scalar::String(Cow::Borrowed("10.0.0.1"))))),
                (Event::Table { name: Cow::Borrowed("host"), array: false, at: at("[ host") }, None),
                (
                    Event::Key { name: Cow::Owned("ab".into()), at: at("\"a\\u") },
                    Some(Value::Scalar(Scalar::Boolean(true)))
                ),
            ]
        );
    }

    #[test]
    fn strings_without_escapes_are_borrowed() {
        let text = "a = \"x\"\nb = 'y\\'\nc = '''z'''\nd = \"\\u0078\"\ne = \"\"\"\r\nw\r\n\"\"\"\n";
        let borrowed: Vec<bool> = read(text)
            .unwrap()
            .into_iter()
            .filter_map(|(_, v)| match v {
                Some(Value::Scalar(Scalar::String(s))) => Some(matches!(s, Cow::Borrowed(_))),
                _ => None,
            })
            .collect();
        assert_eq!(borrowed, [true, true, true, false, false]);
    }

    #[test]
    fn strings_of_every_kind() {
        assert_eq!(
            value(r#""a\tb\n\\ \" \b\f\r \u00e9 \U0001F600""#),
            string("a\tb\n\\ \" \u{8}\u{c}\r é 😀")
        );
        assert_eq!(value(r"'C:\no\escapes'"), string(r"C:\no\escapes"));
        assert_eq!(value("\"\"\"\nline 1\r\nline 2\"\"\""), string("line 1\nline 2"));
        assert_eq!(value("\"\"\"a \\  \n   \\\r\n\t b\"\"\""), string("a b"));
        assert_eq!(value("\"\"\"\"quoted\"\"\"\"\""), string("\"quoted\"\""));
        assert_eq!(value("'''\n'one' ''two'' \\n'''"), string("'one' ''two'' \\n"));
        assert_eq!(value("'''''x'''''"), string("''x''"));
        assert_eq!(value("\"\""), string(""));
        assert_eq!(value("\"\"\"\"\"\""), string(""));
        assert_eq!(value("\"tab\there\""), string("tab\there"));
    }

    #[test]
    fn bad_strings_are_refused() {
        let kind = |v: &str| value(v).unwrap_err();
        assert_eq!(kind(r#""\e""#), ErrorKind::InvalidEscape("e".into()));
        assert_eq!(kind(r#""\ud800""#), ErrorKind::InvalidUnicode("\\ud800".into()));
        assert_eq!(kind(r#""\U00110000""#), ErrorKind::InvalidUnicode("\\U00110000".into()));
        assert_eq!(kind(r#""\u00e""#), ErrorKind::InvalidUnicode("\\u00e\"".into()));
        assert_eq!(kind("\"a\u{7f}\""), ErrorKind::ControlCharacter('\u{7f}'));
        assert_eq!(kind("'a\u{0}'"), ErrorKind::ControlCharacter('\0'));
        assert_eq!(kind("\"\"\"a\rb\"\"\""), ErrorKind::ControlCharacter('\r'));
        assert_eq!(kind("\"\"\"a \\  b\"\"\""), ErrorKind::InvalidEscape(" ".into()));
        assert_eq!(kind("\"a"), ErrorKind::Unterminated("string"));
        assert_eq!(kind("'a"), ErrorKind::Unterminated("literal string"));
        assert_eq!(kind("\"\"\"a"), ErrorKind::Unterminated("multi-line string"));
        assert_eq!(kind("'''a''"), ErrorKind::Unterminated("multi-line literal string"));
        // Six quotes: the string ends after five, and the sixth is left over.
        assert!(matches!(kind("\"\"\"a\"\"\"\"\"\""), ErrorKind::Expected { found: Found::Char('"'), .. }));
    }

    #[test]
    fn integers_in_every_base() {
        assert_eq!(value("8080"), int(8080));
        assert_eq!(value("+8_080"), int(8080));
        assert_eq!(value("-0"), int(0));
        assert_eq!(value("0x1F_90"), int(0x1f90));
        assert_eq!(value("0o17"), int(0o17));
        assert_eq!(value("0b1010"), int(10));
        assert_eq!(value("0x7fffffffffffffff"), int(i64::MAX));
        assert_eq!(value("-9223372036854775808"), int(i64::MIN));
        assert_eq!(value("true"), Ok(Value::Scalar(Scalar::Boolean(true))));
        let invalid = |v: &str| match value(v) {
            Err(ErrorKind::InvalidInteger { reason, .. }) => reason,
            other => panic!("{v}: {other:?}"),
        };
        assert_eq!(invalid("08"), "leading zeros are not allowed");
        assert_eq!(invalid("0_0"), "leading zeros are not allowed");
        assert_eq!(invalid("1__2"), "an underscore must be between two digits");
        assert_eq!(invalid("1_"), "an underscore must be between two digits");
        assert_eq!(invalid("0x_1"), "an underscore must be between two digits");
        assert_eq!(invalid("0x"), "no digits");
        assert_eq!(invalid("0b2"), "not a binary digit");
        assert_eq!(invalid("-0x1"), "hexadecimal, octal and binary integers take no sign");
        assert_eq!(invalid("80abc"), "not a digit");
        assert_eq!(value("9223372036854775808"), Err(ErrorKind::TooLarge("9223372036854775808".into())));
        assert_eq!(value("0x8000000000000000"), Err(ErrorKind::TooLarge("0x8000000000000000".into())));
        assert_eq!(value("yes"), Err(ErrorKind::NotAValue("yes".into())));
        assert_eq!(invalid("0O7"), "leading zeros are not allowed");
    }

    #[test]
    fn arrays_over_lines_with_comments_and_a_trailing_comma() {
        let v = value("[\n  80, # http\n\n  \"443\"\r\n  ,true,\n]");
        let items =
            vec![Scalar::Integer(80), Scalar::String(Cow::Owned("443".into())), Scalar::Boolean(true)];
        assert_eq!(v, Ok(Value::Array(items)));
        assert_eq!(value("[ ]"), Ok(Value::Array(vec![])));
        assert!(matches!(value("[,]"), Err(ErrorKind::Expected { what: "a value", .. })));
        assert!(matches!(value("[1,,]"), Err(ErrorKind::Expected { what: "a value", .. })));
        assert!(matches!(value("[1 2]"), Err(ErrorKind::Expected { what: "`,` or `]`", .. })));
        assert!(matches!(value("[1"), Err(ErrorKind::Expected { found: Found::End, .. })));
        assert!(matches!(value("[1 # c"), Err(ErrorKind::Expected { found: Found::End, .. })));
    }

    #[test]
    fn what_the_schema_never_uses_is_refused_by_name() {
        for (v, what) in [
            ("1.5", "floats"),
            ("1e5", "floats"),
            ("-inf", "floats"),
            ("nan", "floats"),
            ("1979-05-27", "dates and times"),
            ("1979-05-27T07:32:00Z", "dates and times"),
            ("07:32:00", "dates and times"),
            ("{ a = 1 }", "inline tables ({ … })"),
            ("[[1]]", "nested arrays"),
            ("[1, [2]]", "nested arrays"),
        ] {
            assert_eq!(value(v), Err(ErrorKind::Unsupported(what)), "{v}");
        }
        let err = |text: &str| read(text).unwrap_err();
        assert_eq!(err("a.b = 1").kind, ErrorKind::Unsupported("dotted keys (a.b = …)"));
        assert_eq!(err("a . b = 1").at, 2);
        assert_eq!(err("[a.b]").kind, ErrorKind::Unsupported("sub-tables ([a.b])"));
        assert_eq!(err("[[ a . b ]]").kind, ErrorKind::Unsupported("sub-tables ([a.b])"));
    }

    #[test]
    fn lines_end_where_toml_says() {
        let err = |text: &str| read(text).unwrap_err();
        assert!(matches!(err("a = 1 b = 2").kind, ErrorKind::Expected { what: "the end of the line", .. }));
        assert!(matches!(err("[host] x").kind, ErrorKind::Expected { what: "the end of the line", .. }));
        assert!(matches!(err("a = 1\rb = 2").kind, ErrorKind::Expected { found: Found::Char('\r'), .. }));
        assert!(matches!(err("[ [a]]").kind, ErrorKind::Expected { what: "a key", .. }));
        assert!(matches!(err("[[a] ]").kind, ErrorKind::Expected { what: "`]]`", .. }));
        assert!(matches!(err("a").kind, ErrorKind::Expected { what: "`=`", found: Found::End }));
        assert!(matches!(err("a =").kind, ErrorKind::Expected { what: "a value", found: Found::End }));
        assert!(matches!(err("= 1").kind, ErrorKind::Expected { what: "a key", .. }));
        assert_eq!(err("# \u{7f}").kind, ErrorKind::ControlCharacter('\u{7f}'));
        assert_eq!(err("a = 1 # \u{1}").kind, ErrorKind::ControlCharacter('\u{1}'));
        assert_eq!(read("a = 1#c\r\n\n  # c\n[t]#").unwrap().len(), 2);
    }

    #[test]
    fn errors_are_at_the_line_and_column_people_count() {
        let text = "a = \"é\"\nb = \"日本\" x";
        let e = read(text).unwrap_err();
        assert_eq!(line_column(text, e.at), (2, 10));
        assert_eq!(line_column("", 0), (1, 1));
        assert_eq!(line_column("ab\n", 3), (2, 1));
        assert_eq!(line_column("ab", 99), (1, 3));
        // Inside a character (never produced) still answers.
        assert_eq!(line_column("é", 1), (1, 2));
    }

    #[test]
    fn messages_are_one_short_line() {
        let long = "x".repeat(1000);
        for text in [format!("a = {long}\n"), format!("a = \"\\{long}\""), format!("a = 1 \n{long}")] {
            let e = read(&text).unwrap_err();
            let message = e.kind.to_string();
            assert!(message.len() < 200 && !message.contains('\n'), "{message}");
        }
        let e = read("a = \"\u{1}\"").unwrap_err().kind.to_string();
        assert_eq!(e, "control character U+0001 is not allowed (in a basic string, write it as \\u0001)");
        let e = read("a = 1\n\n b").unwrap_err().kind.to_string();
        assert_eq!(e, "expected `=`, found the end of the file");
    }

    #[test]
    fn arrays_hold_up_to_65535_values() {
        let values = |n: usize| format!("[{}]", "1,".repeat(n));
        assert!(matches!(value(&values(65_535)), Ok(Value::Array(v)) if v.len() == 65_535));
        assert_eq!(value(&values(65_536)), Err(ErrorKind::Unsupported("arrays of more than 65,535 values")));
    }

    #[test]
    fn deep_nesting_is_refused_without_recursion() {
        let text = format!("x = {}{}\n", "[".repeat(1_000_000), "]".repeat(1_000_000));
        assert_eq!(
            read(&text).unwrap_err(),
            ParseError { at: 5, kind: ErrorKind::Unsupported("nested arrays") }
        );
    }

    /// Every text of up to three characters from TOML's punctuation and a few others: each ends
    /// (no loop) in events or an error (no panic).
    #[test]
    fn short_texts_always_end() {
        let alphabet: Vec<char> = "[]\"'=#,.{}\n\r\t \\a1_+-:xé\u{0}\u{7f}".chars().collect();
        let mut texts = vec![String::new()];
        for _ in 0..3 {
            let longer: Vec<String> =
                texts.iter().flat_map(|t| alphabet.iter().map(move |c| format!("{t}{c}"))).collect();
            texts.extend(longer);
        }
        for t in &texts {
            for wrapped in [
                t.clone(),
                format!("k = {t}"),
                format!("k = \"{t}"),
                format!("k = \"\"\"{t}"),
                format!("k = [{t}"),
            ] {
                let _ = read(&wrapped);
            }
        }
    }
}
