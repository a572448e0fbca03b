//! Conditions written with operators (`status == "paid"`, `a > 5 && !vip`), as authors bring
//! them from other tools, translated into the helper calls flowstep expressions use
//! (`eq status "paid"`, `and (gt a 5) (not vip)`), so that an error can show the right form.
//!
//! Only for messages: nothing is ever compiled from a translation.

/// Whether an expression uses an operator flowstep does not have (`==`, `!=`, `>=`, `<=`,
/// `&&`, `||`, `>`, `<` or a leading `!`), outside quoted strings.
pub(crate) fn has_operator(expr: &str) -> bool {
    let mut quote = None;
    let mut previous = ' ';
    for c in expr.chars() {
        match quote {
            Some(q) if c == q => quote = None,
            Some(_) => {}
            None if c == '"' || c == '\'' => quote = Some(c),
            // `=` alone is handlebars' `key=value`; `==` is an operator, and `!`, `&`, `|`,
            // `<` and `>` are never part of an expression.
            None if matches!(c, '!' | '&' | '|' | '<' | '>') || (c == '=' && previous == '=') => {
                return true;
            }
            None => {}
        }
        previous = if quote.is_some() { ' ' } else { c };
    }
    false
}

/// The helper-call form of a condition written with operators, or of a bare name (`vip`), or
/// `None` when the text is not such a condition (free text, parentheses, a sentence).
pub(crate) fn translate(text: &str) -> Option<String> {
    let tokens = tokens(text)?;
    let mut parser = Parser {
        tokens: &tokens,
        at: 0,
    };
    let expr = parser.or()?;
    (parser.at == tokens.len()).then_some(expr.top())
}

#[derive(Debug, Clone, PartialEq)]
enum Token {
    /// A name, a path or a number.
    Word(String),
    /// A quoted string, as a flowstep literal (double quotes).
    Text(String),
    /// A comparison (`eq`, `ne`, ...) or `and`/`or`.
    Op(&'static str),
    /// `!`.
    Not,
}

fn tokens(text: &str) -> Option<Vec<Token>> {
    let chars: Vec<char> = text.chars().collect();
    let mut out = Vec::new();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        let next = chars.get(i + 1).copied();
        let two = |a: char, b: char| c == a && next == Some(b);
        if c.is_whitespace() {
            i += 1;
        } else if c == '"' || c == '\'' {
            let close = chars[i + 1..].iter().position(|&d| d == c)? + i + 1;
            let inner: String = chars[i + 1..close].iter().collect();
            out.push(Token::Text(format!("{inner:?}")));
            i = close + 1;
        } else if two('=', '=') || two('!', '=') {
            out.push(Token::Op(if c == '=' { "eq" } else { "ne" }));
            // `===` and `!==` are JavaScript's strict forms of the same.
            i += if chars.get(i + 2) == Some(&'=') { 3 } else { 2 };
        } else if two('>', '=') || two('<', '=') {
            out.push(Token::Op(if c == '>' { "gte" } else { "lte" }));
            i += 2;
        } else if two('&', '&') || two('|', '|') {
            out.push(Token::Op(if c == '&' { "and" } else { "or" }));
            i += 2;
        } else if c == '>' || c == '<' {
            out.push(Token::Op(if c == '>' { "gt" } else { "lt" }));
            i += 1;
        } else if c == '!' {
            out.push(Token::Not);
            i += 1;
        } else if c.is_alphanumeric() || matches!(c, '_' | '.' | '-' | '$') {
            let start = i;
            while i < chars.len()
                && (chars[i].is_alphanumeric() || matches!(chars[i], '_' | '.' | '-' | '$'))
            {
                i += 1;
            }
            out.push(Token::Word(chars[start..i].iter().collect()));
        } else {
            return None;
        }
    }
    (!out.is_empty()).then_some(out)
}

/// A parsed condition.
enum Expr {
    Atom(String),
    Call(&'static str, Vec<Expr>),
}

impl Expr {
    /// As a whole expression: `eq a b`.
    fn top(&self) -> String {
        match self {
            Expr::Atom(a) => a.clone(),
            Expr::Call(name, args) => {
                let args: Vec<String> = args.iter().map(Expr::arg).collect();
                format!("{name} {}", args.join(" "))
            }
        }
    }

    /// As an argument: calls in parentheses.
    fn arg(&self) -> String {
        match self {
            Expr::Atom(a) => a.clone(),
            Expr::Call(..) => format!("({})", self.top()),
        }
    }
}

struct Parser<'t> {
    tokens: &'t [Token],
    at: usize,
}

impl Parser<'_> {
    fn peek_op(&self, op: &str) -> bool {
        matches!(self.tokens.get(self.at), Some(Token::Op(o)) if *o == op)
    }

    fn chain(&mut self, op: &'static str, next: fn(&mut Self) -> Option<Expr>) -> Option<Expr> {
        let mut parts = vec![next(self)?];
        while self.peek_op(op) {
            self.at += 1;
            parts.push(next(self)?);
        }
        Some(if parts.len() == 1 {
            parts.remove(0)
        } else {
            Expr::Call(op, parts)
        })
    }

    fn or(&mut self) -> Option<Expr> {
        self.chain("or", Self::and)
    }

    fn and(&mut self) -> Option<Expr> {
        self.chain("and", Self::comparison)
    }

    fn comparison(&mut self) -> Option<Expr> {
        let left = self.unary()?;
        match self.tokens.get(self.at) {
            Some(Token::Op(op)) if !matches!(*op, "and" | "or") => {
                self.at += 1;
                let right = self.unary()?;
                Some(Expr::Call(op, vec![left, right]))
            }
            _ => Some(left),
        }
    }

    fn unary(&mut self) -> Option<Expr> {
        match self.tokens.get(self.at)? {
            Token::Not => {
                self.at += 1;
                Some(Expr::Call("not", vec![self.unary()?]))
            }
            Token::Word(w) => {
                self.at += 1;
                Some(Expr::Atom(w.clone()))
            }
            Token::Text(t) => {
                self.at += 1;
                Some(Expr::Atom(t.clone()))
            }
            Token::Op(_) => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn operators_become_helper_calls() {
        let cases = [
            (r#"status == "paid""#, r#"eq status "paid""#),
            ("status == 'paid'", r#"eq status "paid""#),
            ("status === 'paid'", r#"eq status "paid""#),
            ("n != 3", "ne n 3"),
            ("amount >= 100", "gte amount 100"),
            ("amount < 19.99", "lt amount 19.99"),
            ("!vip", "not vip"),
            (
                r#"a > 5 && b == "x" || !c"#,
                r#"or (and (gt a 5) (eq b "x")) (not c)"#,
            ),
            (
                "steps.pay.status == 'failed'",
                r#"eq steps.pay.status "failed""#,
            ),
            ("vip", "vip"),
        ];
        for (written, want) in cases {
            assert_eq!(translate(written).as_deref(), Some(want), "{written}");
        }
    }

    #[test]
    fn other_text_is_not_translated() {
        for text in ["status is paid", "(a == b)", "a ==", "", "\"open"] {
            assert_eq!(translate(text), None, "{text}");
        }
        assert!(has_operator(r#"status == "paid""#));
        assert!(has_operator("!vip"));
        assert!(!has_operator(r#"eq status "a == b""#));
        assert!(!has_operator("minor_units amount \"inr\""));
        assert!(has_operator("eq (len items) 0 && ok"));
        assert!(!has_operator("upper x y=1"));
    }
}
