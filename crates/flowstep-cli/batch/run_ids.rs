//! Run ids of batch rows, which the idempotency keys derive from: the row's `--id-column`
//! value, or `row-N-` and a hash of the flow's name and the row's values; and the 128-bit
//! fingerprints by which a batch remembers ids (done earlier, seen in this run) in 16 bytes.

use crate::batch::rows::Cell;

const FNV_OFFSET: u128 = 0x6c62272e07bb014262b821756295c58d;
const FNV_PRIME: u128 = 0x0000000001000000000000000000013B;

/// FNV-1a, 128 bits: stable across builds and platforms (std's hashers are not), and with
/// no accidental collision in any batch that fits on a disk.
fn fnv(parts: &[&[u8]]) -> u128 {
    let mut h = FNV_OFFSET;
    for part in parts {
        for &b in *part {
            h ^= u128::from(b);
            h = h.wrapping_mul(FNV_PRIME);
        }
        // A separator that UTF-8 text never holds, so that `ab`+`c` and `a`+`bc` differ.
        h ^= 0xff;
        h = h.wrapping_mul(FNV_PRIME);
    }
    h
}

/// The fingerprint of a run id.
pub fn fingerprint(run_id: &str) -> u128 {
    fnv(&[run_id.as_bytes()])
}

/// The run id of row `number` without an id column: `row-7-` and 16 hex digits of a hash of
/// the flow's name and the row's values by name, so that the same row of the same file gets
/// the same id on every run of the batch, and a changed row (or another flow) a new one.
pub fn for_row(number: u64, flow: &str, cells: &[(String, Cell)]) -> String {
    let mut named: Vec<(&str, &str)> = cells
        .iter()
        .filter_map(|(name, cell)| match cell {
            Cell::Text(t) => Some((name.as_str(), t.as_str())),
            Cell::Empty | Cell::Nested(_) => None,
        })
        .collect();
    // JSON Lines may name the same values in another order.
    named.sort_unstable();
    let mut parts: Vec<&[u8]> = vec![flow.as_bytes()];
    for (name, text) in &named {
        parts.push(name.as_bytes());
        parts.push(text.as_bytes());
    }
    format!("row-{number}-{:016x}", fnv(&parts) as u64)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cells(pairs: &[(&str, &str)]) -> Vec<(String, Cell)> {
        pairs
            .iter()
            .map(|(n, v)| {
                let cell = if v.is_empty() {
                    Cell::Empty
                } else {
                    Cell::Text((*v).into())
                };
                ((*n).to_owned(), cell)
            })
            .collect()
    }

    #[test]
    fn row_ids_are_stable_and_change_with_the_row() {
        let a = for_row(7, "f", &cells(&[("x", "1"), ("y", "2")]));
        // Pinned: a re-run after an upgrade must find the same ids.
        assert_eq!(a, "row-7-f9af75864b8ee34c");
        assert_eq!(a, for_row(7, "f", &cells(&[("y", "2"), ("x", "1")])));
        assert_eq!(
            a,
            for_row(7, "f", &cells(&[("x", "1"), ("y", "2"), ("z", "")]))
        );
        assert_ne!(a, for_row(8, "f", &cells(&[("x", "1"), ("y", "2")])));
        assert_ne!(a, for_row(7, "g", &cells(&[("x", "1"), ("y", "2")])));
        assert_ne!(a, for_row(7, "f", &cells(&[("x", "12"), ("y", "")])));
        assert!(flowstep_engine::check_run_id(&a).is_ok());
        assert_ne!(fingerprint("a"), fingerprint("b"));
    }
}
