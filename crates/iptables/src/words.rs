//! Word splitting of `iptables-restore` rule lines.
//!
//! This is `add_param_to_argv` of iptables 1.8.9 (iptables/xshared.c), not a shell: words are
//! separated by space, tab or newline; `"` starts a quoted part in which `\` escapes the next
//! character; a closing `"` ends the word (so `"a"b` is two words and `""` is one empty word);
//! `'` and `\` outside quotes are ordinary characters. A word may have at most 1023 bytes.
//! One difference on purpose: iptables runs an unterminated quote to the end of the line (so
//! `-o eth0"-j LOG` names an interface `eth0-j LOG`); here it is an error.

use crate::error::ErrorKind;

/// Longest word iptables accepts (`struct xt_param_buf`: 1024 bytes including the NUL).
const PARAM_MAX: usize = 1023;

/// Splits a rule line into words. Errors carry the 1-based index of the offending word.
pub(crate) fn split(line: &str) -> Result<Vec<String>, (usize, ErrorKind)> {
    let mut words = Vec::new();
    let mut param = String::new();
    let mut in_quote = false;
    let mut escaped = false;

    for c in line.chars() {
        if in_quote {
            if escaped {
                param.push(c);
                escaped = false;
            } else if c == '\\' {
                escaped = true;
            } else if c == '"' {
                in_quote = false;
                // The closing quote ends the word, even an empty one.
                words.push(std::mem::take(&mut param));
            } else {
                param.push(c);
            }
        } else if c == '"' {
            in_quote = true;
        } else if matches!(c, ' ' | '\t' | '\n') {
            if !param.is_empty() {
                words.push(std::mem::take(&mut param));
            }
        } else {
            param.push(c);
        }
        if param.len() > PARAM_MAX {
            return Err((words.len() + 1, ErrorKind::WordTooLong));
        }
    }
    if in_quote {
        return Err((words.len() + 1, ErrorKind::UnterminatedQuote));
    }
    if !param.is_empty() {
        words.push(param);
    }
    Ok(words)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn s(line: &str) -> Vec<String> {
        split(line).unwrap()
    }

    #[test]
    fn like_add_param_to_argv() {
        assert_eq!(s("-A INPUT  -j ACCEPT \n"), ["-A", "INPUT", "-j", "ACCEPT"]);
        assert_eq!(s(r#"-m comment --comment "a b" -j X"#), ["-m", "comment", "--comment", "a b", "-j", "X"]);
        assert_eq!(s(r#"--log-prefix "x \"y\" \\ z""#), ["--log-prefix", r#"x "y" \ z"#]);
        assert_eq!(s(r#""a"b"#), ["a", "b"]);
        assert_eq!(s(r#"a"b c"d"#), ["ab c", "d"]);
        assert_eq!(s(r#"x """#), ["x", ""]);
        assert_eq!(s(r#"'a b'"#), ["'a", "b'"]);
        assert_eq!(s(r#"a\ b"#), [r"a\", "b"]);
        assert_eq!(s("a\r"), ["a\r"]);
        assert!(s("").is_empty());
    }

    #[test]
    fn an_unterminated_quote_is_an_error() {
        assert_eq!(split(r#"--comment "open"#), Err((2, ErrorKind::UnterminatedQuote)));
        assert_eq!(split("-A OUTPUT -o eth0\"-j LOG ").map_err(|e| e.1), Err(ErrorKind::UnterminatedQuote));
    }

    #[test]
    fn word_limit() {
        let long = "x".repeat(1023);
        assert_eq!(split(&long).unwrap().len(), 1);
        assert!(split(&format!("{long}x")).is_err());
    }
}
