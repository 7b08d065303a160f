// `#[worker]` on a function.
use supervise::worker;

#[worker]
fn w() {}

fn main() {}
