use supervise::{handlers, worker};

#[worker]
#[derive(Clone)]
struct Cache;

#[handlers]
impl Cache {
    #[cast(timeout = "5s")]
    fn clear(&mut self) {}
}

fn main() {}
