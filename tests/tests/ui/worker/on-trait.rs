// `#[worker]` on a trait.
use supervise::worker;

#[worker]
trait W {}

fn main() {}
