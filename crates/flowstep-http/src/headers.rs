//! Request headers: an ordered, case-insensitive list, and the one-line check on rendered values.

use flowstep_engine::StepError;

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
/// aside): it could end the header and start another. The value itself is never echoed.
pub fn check_header_value(name: &str, what: &str, value: &str) -> Result<(), StepError> {
    if value.chars().any(|c| c.is_control() && c != '\t') {
        return Err(StepError::invalid(format!(
            "{what} (header `{name}`) contains a line break or control character after rendering; \
             header values must be one line"
        )));
    }
    Ok(())
}
