//! Compiles docs/embedding.md's examples as doctests when the guide is there (in the
//! repository; a published copy of the crate has no docs/ beside it).

use std::path::Path;

fn main() {
    println!("cargo::rustc-check-cfg=cfg(flowstep_guide)");
    let guide = Path::new("../../docs/embedding.md");
    println!("cargo::rerun-if-changed=../../docs/embedding.md");
    if guide.exists() {
        println!("cargo::rustc-cfg=flowstep_guide");
    }
}
