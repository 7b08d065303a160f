use supervise::{handlers, worker};

#[worker]
#[derive(Clone)]
struct Cache;

#[handlers(messages = CacheRequest)]
impl Cache {
    #[cast]
    fn clear(&mut self) {}
}

fn main() {}
