use supervise::{handlers, worker};

#[worker]
#[derive(Clone)]
struct Cache;

#[handlers]
impl Cache {
    #[init]
    fn open(&mut self) -> u32 {
        0
    }
}

fn main() {}
