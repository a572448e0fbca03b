//! Request headers: an ordered, case-insensitive list, and the one-line check on rendered values.

use flowstep_engine::{HintNote, StepError};

/// Headers in order, names compared without case.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Headers(pub Vec<(String, String)>);

impl Headers {
    /// Sets `name`, replacing an earlier value of the same name in place.
    pub fn set(&mut self, name: &str, value: String) {
        match self
            .0
            .iter_mut()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
        {
            Some(slot) => slot.1 = value,
            None => self.0.push((name.to_owned(), value)),
        }
    }

    /// The value of `name`.
    pub fn get(&self, name: &str) -> Option<&str> {
        self.0
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    /// Removes `name`.
    pub fn remove(&mut self, name: &str) {
        self.0.retain(|(k, _)| !k.eq_ignore_ascii_case(name));
    }
}

/// Fails when a rendered header value holds a line break or another control character (tab
/// aside): it could end the header and start another; or text that is not ASCII: HTTP carries
/// header values as bytes that servers read as Latin-1 or not at all, so `Île-de-France` would
/// arrive garbled. The value itself is never echoed (it may be a credential).
pub fn check_header_value(name: &str, what: &str, value: &str) -> Result<(), StepError> {
    if value.chars().any(|c| c.is_control() && c != '\t') {
        return Err(StepError::invalid(format!(
            "{what} (header `{name}`) contains a line break or control character after rendering; \
             header values must be one line"
        )));
    }
    if let Some((at, c)) = value.chars().enumerate().find(|(_, c)| !c.is_ascii()) {
        let mut e = StepError::invalid(format!(
            "{what} (header `{name}`) contains non-ASCII text after rendering (character {} is \
             U+{:04X}); header values must be ASCII",
            at + 1,
            u32::from(c)
        ));
        e.hint = Some(Box::new(HintNote {
            cause: "HTTP sends header values as bytes, and servers read UTF-8 text as Latin-1 \
                    or refuse it"
                .to_owned(),
            fix: "percent-encode the value, or use RFC 8187's `UTF-8''` form where the API \
                  takes it (`filename*=UTF-8''%C3%8Ele.pdf`); text for the API to read can go in \
                  the body or `query:`, which are encoded for you"
                .to_owned(),
        }));
        return Err(e);
    }
    Ok(())
}
