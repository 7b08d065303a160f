use supervise::{handlers, worker};

#[worker]
#[derive(Clone)]
struct Cache;

#[handlers]
impl Cache {
    #[cast]
    fn put(&mut self, value: u64) -> u64 {
        value
    }
}

fn main() {}
