use supervise::{handlers, worker};

#[worker]
#[derive(Clone)]
struct Cache;

#[handlers]
impl Cache {
    #[cast]
    fn clear(self) {}
}

fn main() {}
