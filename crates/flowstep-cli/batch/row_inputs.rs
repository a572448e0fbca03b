//! A batch row's run id and inputs: its values converted to the flow's input types by the one
//! typing rule `--var` uses, `--var` values for what the row does not give, defaults for the
//! rest; a row that cannot run says why at its line and column.

use crate::batch::rows::{Cell, Row, RowError};
use crate::batch::run_ids;
use flowstep_engine::{InputProblem, InputValue, check_run_id, resolve_inputs};
use flowstep_spec::Flow;
use serde_json::{Map, Value};
use std::collections::HashSet;

/// How every row of a batch is turned into a run.
pub struct RowTyping<'a> {
    /// The flow the rows are inputs of.
    pub flow: &'a Flow,
    /// `--var NAME=VALUE`: for every row that does not give the input itself.
    pub constants: Vec<(String, String)>,
    /// `--id-column`: the column that holds each row's run id.
    pub id_column: Option<String>,
}

impl RowTyping<'_> {
    /// The run id of a row that could be read.
    pub fn run_id(&self, row: &Row, cells: &[(String, Cell)]) -> Result<String, RowError> {
        let Some(column) = &self.id_column else {
            return Ok(run_ids::for_row(row.number, &self.flow.name.value, cells));
        };
        let error = |message: String| RowError {
            line: row.line,
            column: Some(column.clone()),
            character: None,
            message,
        };
        match cells
            .iter()
            .find(|(name, _)| name == column)
            .map(|(_, c)| c)
        {
            Some(Cell::Text(text)) => {
                let id = text.trim();
                check_run_id(id).map_err(|e| error(format!("the row's run id: {e}")))?;
                Ok(id.to_owned())
            }
            Some(Cell::Nested(kind)) => Err(error(format!("{kind} is not a run id"))),
            Some(Cell::Empty) | None => Err(error(
                "no value in the id column; every row needs its own run id there".into(),
            )),
        }
    }

    /// The row's inputs, resolved against the flow: every problem of the row in one error,
    /// at the first problem's column.
    pub fn inputs(
        &self,
        row: &Row,
        cells: Vec<(String, Cell)>,
    ) -> Result<Map<String, Value>, RowError> {
        let mut problems: Vec<(Option<String>, String)> = Vec::new();
        let mut given = Vec::new();
        let mut from_row = HashSet::new();
        for (name, cell) in cells {
            let Some(decl) = self.flow.input(&name) else {
                continue;
            };
            match cell {
                Cell::Text(text) => {
                    from_row.insert(name.clone());
                    given.push((name, InputValue::Text(text)));
                }
                Cell::Empty => {}
                Cell::Nested(kind) => {
                    let want = decl.ty.with_article();
                    problems.push((Some(name), format!("{kind} is not {want}")));
                }
            }
        }
        for (name, value) in &self.constants {
            if !from_row.contains(name) && !problems.iter().any(|(c, _)| c.as_ref() == Some(name)) {
                given.push((name.clone(), InputValue::Text(value.clone())));
            }
        }
        match resolve_inputs(self.flow, given) {
            Ok(inputs) if problems.is_empty() => return Ok(inputs),
            Ok(_) => {}
            Err(found) => {
                let placed: HashSet<String> =
                    problems.iter().filter_map(|(c, _)| c.clone()).collect();
                let found = found.into_iter().filter(|p| {
                    // An input whose value was refused above is not also "missing".
                    !matches!(p, InputProblem::Missing { name, .. } if placed.contains(name))
                });
                problems.extend(found.map(|p| match p {
                    InputProblem::Invalid(e) if from_row.contains(&e.name) => {
                        (Some(e.name), e.message)
                    }
                    InputProblem::Invalid(e) => (None, format!("--var {}: {}", e.name, e.message)),
                    InputProblem::Missing { name, description } => {
                        let what = description.map_or_else(String::new, |d| format!(" ({d})"));
                        let message =
                            format!("no value for `{name}`, which the flow requires{what}");
                        (Some(name), message)
                    }
                    other => (None, other.to_string()),
                }));
            }
        }
        let mut all = problems.into_iter();
        let (column, mut message) = all.next().unwrap_or((None, "the row cannot run".into()));
        for (c, m) in all {
            match c {
                Some(c) => message.push_str(&format!("; column `{c}`: {m}")),
                None => message.push_str(&format!("; {m}")),
            }
        }
        Err(RowError {
            line: row.line,
            column,
            character: None,
            message,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use flowstep_spec::{SourceFile, read_flow};

    fn flow() -> Flow {
        let yaml = "flow: f\ninputs:\n  order_id: { type: string }\n  amount: { type: integer, minimum: 50 }\n  currency: { type: string, default: inr }\nsteps:\n  - id: m\n    type: message\n    text: hi\n";
        read_flow(SourceFile::new("f.yaml", yaml)).unwrap()
    }

    fn row(cells: &[(&str, Cell)]) -> (Row, Vec<(String, Cell)>) {
        let cells: Vec<(String, Cell)> = cells
            .iter()
            .map(|(n, c)| ((*n).to_owned(), c.clone()))
            .collect();
        let row = Row {
            number: 3,
            line: 4,
            cells: Ok(cells.clone()),
        };
        (row, cells)
    }

    fn t(s: &str) -> Cell {
        Cell::Text(s.into())
    }

    #[test]
    fn values_are_typed_like_var_and_problems_are_placed() {
        let flow = flow();
        let typing = RowTyping {
            flow: &flow,
            constants: vec![("currency".into(), "usd".into())],
            id_column: Some("order_id".into()),
        };
        let (r, cells) = row(&[
            ("order_id", t("A-1")),
            ("amount", t(" 500 ")),
            ("note", t("x")),
        ]);
        assert_eq!(typing.run_id(&r, &cells).unwrap(), "A-1");
        let inputs = typing.inputs(&r, cells).unwrap();
        assert_eq!(inputs["amount"], 500);
        assert_eq!(inputs["currency"], "usd");
        // The row's own value wins over --var.
        let (r, cells) = row(&[
            ("order_id", t("A-2")),
            ("amount", t("500")),
            ("currency", t("eur")),
        ]);
        assert_eq!(typing.inputs(&r, cells).unwrap()["currency"], "eur");

        let (r, cells) = row(&[("order_id", t("A 3")), ("amount", t("abc"))]);
        let e = typing.run_id(&r, &cells).unwrap_err();
        assert_eq!(e.column.as_deref(), Some("order_id"));
        assert!(
            e.to_string()
                .starts_with("line 4, column `order_id`: the row's run id:"),
            "{e}"
        );
        let e = typing.inputs(&r, cells).unwrap_err();
        assert_eq!(
            e.to_string(),
            "line 4, column `amount`: \"abc\" is not an integer"
        );

        let (r, cells) = row(&[("order_id", t("A-4")), ("amount", Cell::Empty)]);
        let e = typing.inputs(&r, cells).unwrap_err();
        assert_eq!(
            e.to_string(),
            "line 4, column `amount`: no value for `amount`, which the flow requires"
        );
        let (r, cells) = row(&[("order_id", Cell::Empty), ("amount", t("5"))]);
        assert!(
            typing
                .run_id(&r, &cells)
                .unwrap_err()
                .message
                .contains("no value in the id column")
        );
        let e = typing.inputs(&r, cells).unwrap_err();
        assert!(
            e.to_string()
                .starts_with("line 4, column `amount`: 5 is less than the minimum 50"),
            "{e}"
        );
    }

    #[test]
    fn a_nested_value_is_refused_once() {
        let flow = flow();
        let typing = RowTyping {
            flow: &flow,
            constants: vec![],
            id_column: None,
        };
        let (r, cells) = row(&[("order_id", t("A-1")), ("amount", Cell::Nested("a list"))]);
        let e = typing.inputs(&r, cells).unwrap_err();
        assert_eq!(
            e.to_string(),
            "line 4, column `amount`: a list is not an integer"
        );
    }

    #[test]
    fn without_an_id_column_the_row_number_and_values_make_the_id() {
        let flow = flow();
        let typing = RowTyping {
            flow: &flow,
            constants: vec![],
            id_column: None,
        };
        let (r, cells) = row(&[("order_id", t("A-1")), ("amount", t("500"))]);
        let id = typing.run_id(&r, &cells).unwrap();
        assert!(id.starts_with("row-3-"), "{id}");
    }
}
