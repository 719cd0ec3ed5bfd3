//! Parse errors: what went wrong and where.

use std::fmt;

/// Whether an extension name was given to `-m` or to `-j`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExtensionKind {
    /// `-m NAME` (or a match loaded by `-p`).
    Match,
    /// `-j NAME`.
    Target,
}

impl fmt::Display for ExtensionKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            ExtensionKind::Match => "match",
            ExtensionKind::Target => "target",
        })
    }
}

/// What is wrong with the input.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ErrorKind {
    /// A word is longer than the 1023 bytes iptables-restore accepts.
    #[error("word longer than 1023 bytes")]
    WordTooLong,
    /// A `"` is never closed (iptables-restore would run the word to the end of the line).
    #[error("unterminated quote")]
    UnterminatedQuote,
    /// An option no loaded extension knows.
    #[error("unknown option `{option}'")]
    UnknownOption {
        /// The option as written.
        option: String,
    },
    /// An abbreviated long option that fits several options.
    #[error("ambiguous option `{option}'")]
    AmbiguousOption {
        /// The option as written.
        option: String,
    },
    /// An option that needs a value is last on the line.
    #[error("option `{option}' requires an argument")]
    MissingArgument {
        /// The option.
        option: String,
    },
    /// `--flag=value` for an option that takes no value.
    #[error("option `{option}' does not take an argument")]
    UnexpectedValue {
        /// The option.
        option: String,
    },
    /// A word that is neither an option nor the value of one (iptables: "Bad argument").
    #[error("unexpected argument")]
    UnexpectedArgument,
    /// A value an option does not accept.
    #[error("invalid value `{value}' for `{option}': {reason}")]
    InvalidValue {
        /// The option.
        option: String,
        /// The value as written.
        value: String,
        /// Why it is refused.
        reason: &'static str,
    },
    /// `!` before an option that cannot be negated.
    #[error("option `{option}' cannot be negated with `!'")]
    InvertNotAllowed {
        /// The option.
        option: String,
    },
    /// `! !`.
    #[error("multiple consecutive `!' not allowed")]
    MultipleInvert,
    /// `!` with no option after it.
    #[error("nothing appropriate following `!'")]
    DanglingInvert,
    /// The pre-2010 form `--option ! value`, which iptables 1.8.9 refuses ("Bad argument").
    /// Write `! --option value`, or enable [`crate::ParseOptions::legacy_negation`].
    #[error(
        "intrapositioned negation `{option} ! ...' is not accepted by iptables 1.8.9; write `! {option} ...'"
    )]
    IntrapositionedNegation {
        /// The option.
        option: String,
    },
    /// An option given twice.
    #[error("option `{option}' can only be used once")]
    DuplicateOption {
        /// The option.
        option: String,
    },
    /// Two options that exclude each other.
    #[error("option `{first}' cannot be used together with `{second}'")]
    ConflictingOptions {
        /// The option given first.
        first: String,
        /// The option given second.
        second: String,
    },
    /// A mandatory option of an extension is missing.
    #[error("{extension}: option `{option}' must be specified")]
    MissingOption {
        /// The extension.
        extension: String,
        /// The missing option.
        option: String,
    },
    /// An extension given without any of its options.
    #[error("{extension}: at least one option is required")]
    NoOption {
        /// The extension.
        extension: &'static str,
    },
    /// An extension iptables 1.8.9 does not have.
    #[error("unknown {kind} `{name}'")]
    UnknownExtension {
        /// Match or target.
        kind: ExtensionKind,
        /// The name as written.
        name: String,
    },
    /// An extension iptables 1.8.9 has but natkeeper does not model.
    #[error("{kind} `{name}' is not supported by natkeeper")]
    UnsupportedExtension {
        /// Match or target.
        kind: ExtensionKind,
        /// The name.
        name: String,
    },
    /// An extension that needs a particular `-p`.
    #[error("{extension} requires {protocols}")]
    RequiresProtocol {
        /// The extension.
        extension: &'static str,
        /// Which `-p` it needs, in words.
        protocols: &'static str,
    },
    /// Something the kernel refuses in this table.
    #[error("{what} is not valid in table `{table}'")]
    NotValidInTable {
        /// The option, match or target.
        what: String,
        /// The table.
        table: &'static str,
    },
    /// Something the kernel (or iptables) refuses in this builtin chain.
    #[error("{what} is not valid in chain `{chain}'")]
    NotValidInChain {
        /// The option, match or target.
        what: String,
        /// The chain.
        chain: String,
    },
    /// A rule that could never match, which iptables or the kernel refuses, or which
    /// iptables-nft 1.8.9 would silently install as a broader rule.
    #[error("rule would never match: {what}")]
    NeverMatches {
        /// Why.
        what: &'static str,
    },
    /// A host name where an address is expected; the library never resolves names.
    #[error("`{value}' is not a numeric address (host names are not resolved)")]
    HostName {
        /// The value.
        value: String,
    },
    /// A comma-separated address list, which iptables expands into several rules.
    #[error("address lists (`{value}') are not supported: write one rule per address")]
    AddressList {
        /// The value.
        value: String,
    },
    /// No command (`-A`, `-I`, ...) on the line.
    #[error("no command specified")]
    NoCommand,
    /// Two commands on one line.
    #[error("cannot use {first} with {second}")]
    ConflictingCommands {
        /// The first command.
        first: String,
        /// The second command.
        second: String,
    },
    /// An option the command does not take (iptables: "Illegal option with this command").
    #[error("illegal option `{option}' with this command")]
    IllegalOption {
        /// The option.
        option: String,
    },
    /// A bad rule number.
    #[error("invalid rule number `{value}'")]
    InvalidRuleNumber {
        /// The value.
        value: String,
    },
    /// A bad chain name.
    #[error("invalid chain name `{name}': {reason}")]
    InvalidChainName {
        /// The name.
        name: String,
        /// Why.
        reason: &'static str,
    },
    /// A bad `-j` name.
    #[error("invalid target name `{name}': {reason}")]
    InvalidTargetName {
        /// The name.
        name: String,
        /// Why.
        reason: &'static str,
    },
    /// A table iptables does not have.
    #[error("unknown table `{name}'")]
    UnknownTable {
        /// The name.
        name: String,
    },
    /// A policy other than `ACCEPT` or `DROP`.
    #[error("bad policy `{name}' (ACCEPT or DROP)")]
    BadPolicy {
        /// The name.
        name: String,
    },
    /// A policy on a chain that is not builtin.
    #[error("chain `{chain}' is not a builtin chain of table `{table}'")]
    NotBuiltinChain {
        /// The chain.
        chain: String,
        /// The table.
        table: &'static str,
    },
    /// An iptables option natkeeper does not handle (`-h`, `-V`, `-6`).
    #[error("option `{option}' is not supported")]
    UnsupportedOption {
        /// The option.
        option: String,
    },
    /// `DROP` in the nat table, which iptables inhibits.
    #[error("the nat table is not intended for filtering, DROP is not allowed")]
    NatDrop,
    /// An option that only the iptables command, not iptables-restore, accepts (`-t`, `-w`).
    #[error("option `{option}' cannot be used in iptables-restore input")]
    NotInRestore {
        /// The option.
        option: String,
    },
    /// An iptables-restore line outside a `*table` ... `COMMIT` block.
    #[error("line outside a table (expected `*table')")]
    OutsideTable,
    /// The input ended inside a table.
    #[error("COMMIT expected")]
    CommitExpected,
    /// A `*table` line naming no table.
    #[error("table name missing")]
    MissingTableName,
    /// A bad `:CHAIN POLICY [p:b]` line.
    #[error("bad chain line: {reason}")]
    BadChainLine {
        /// Why.
        reason: &'static str,
    },
    /// A bad `[packets:bytes]` counter.
    #[error("bad counters `{value}'")]
    BadCounters {
        /// The value.
        value: String,
    },
}

/// A parse error with its position: line (1-based, in restore input), word (1-based index of
/// the offending word of the command or rule line, after the `[p:b]` prefix) and the word itself.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParseError {
    /// Line number in restore input, `None` for a single command.
    pub line: Option<usize>,
    /// 1-based index of the offending word, when the error is about one word.
    pub word: Option<usize>,
    /// The offending word as written.
    pub token: Option<String>,
    /// What is wrong.
    pub kind: ErrorKind,
}

impl ParseError {
    pub(crate) fn new(kind: ErrorKind) -> Self {
        ParseError { line: None, word: None, token: None, kind }
    }

    pub(crate) fn at(kind: ErrorKind, word: usize, token: &str) -> Self {
        ParseError { line: None, word: Some(word), token: Some(token.to_owned()), kind }
    }

    pub(crate) fn with_line(mut self, line: usize) -> Self {
        self.line = Some(line);
        self
    }
}

impl fmt::Display for ParseError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut sep = "";
        if let Some(line) = self.line {
            write!(f, "line {line}")?;
            sep = ", ";
        }
        if let Some(word) = self.word {
            write!(f, "{sep}word {word}")?;
            sep = " ";
        }
        if let Some(token) = &self.token {
            write!(f, "{sep}`{token}'")?;
            sep = ": ";
        } else if !sep.is_empty() {
            sep = ": ";
        }
        write!(f, "{sep}{}", self.kind)
    }
}

impl std::error::Error for ParseError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        Some(&self.kind)
    }
}
