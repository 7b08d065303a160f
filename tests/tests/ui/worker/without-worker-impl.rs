// `#[worker]` on a struct that does not implement `supervise::Worker`.
use supervise::worker;

#[worker]
#[derive(Clone)]
struct W;

fn main() {}
