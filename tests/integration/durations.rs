//! Durations past the documented maximum (`1h`) are refused when the flow is read, by `run` as
//! well as `check`: `timeout: 3000000000000000h` used to pass the check and panic at run time
//! (exit 101), and `retry: {base_delay: 1000000h}` used to hang the run.

use crate::raw_http::{RawServer, reply};
use crate::support::{Scratch, run};

#[test]
fn run_refuses_durations_past_an_hour_before_sending_anything() {
    let server = RawServer::start(vec![reply("503 Service Unavailable", &[], "")]);
    let route = server.route_from("https://api.shop.test");
    for (line, said) in [
        (
            "timeout: 3000000000000000h",
            "error[E010]: `3000000000000000h` is longer than the longest duration allowed, 1h
 --> slow.yaml:6:14
  |
6 |     timeout: 3000000000000000h
  |              ^^^^^^^^^^^^^^^^^
  |

error: could not compile slow.yaml: 1 error
",
        ),
        (
            "retry: { base_delay: 1000000h }",
            "error[E010]: `1000000h` is longer than the longest duration allowed, 1h
 --> slow.yaml:6:26
  |
6 |     retry: { base_delay: 1000000h }
  |                          ^^^^^^^^
  |

error: could not compile slow.yaml: 1 error
",
        ),
    ] {
        let dir = Scratch::new();
        dir.write(
            "slow.yaml",
            &format!(
                "flow: slow\nsteps:\n  - id: call\n    type: http\n    url: https://api.shop.test/v1/x\n    {line}\n"
            ),
        );
        let out = run(dir.path(), &["run", "slow.yaml", "--route", &route]);
        assert_eq!(out.code, 2, "{out:?}");
        // Nothing is said about routes before the flow compiles.
        assert_eq!(Some(out.stderr.as_str()), Some(said), "{line}");
        assert!(out.stdout.is_empty());
    }
    assert!(server.requests().is_empty(), "nothing may be sent");
}
