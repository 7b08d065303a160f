use supervise::handlers;

#[handlers]
struct Cache;

fn main() {}
