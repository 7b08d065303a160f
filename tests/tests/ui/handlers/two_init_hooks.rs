use supervise::{handlers, worker};

#[worker]
#[derive(Clone)]
struct Cache;

#[handlers]
impl Cache {
    #[init]
    fn open(&mut self) {}

    #[init]
    fn warm(&mut self) {}
}

fn main() {}
