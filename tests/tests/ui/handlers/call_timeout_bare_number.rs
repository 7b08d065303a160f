use supervise::{handlers, worker};

#[worker]
#[derive(Clone)]
struct Cache;

#[handlers]
impl Cache {
    #[call(timeout = 5)]
    fn size(&mut self) -> usize {
        0
    }
}

fn main() {}
