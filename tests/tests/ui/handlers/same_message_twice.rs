use supervise::{handlers, worker};

#[worker]
#[derive(Clone)]
struct Cache;

#[handlers]
impl Cache {
    #[cast]
    fn clear(&mut self) {}

    #[cast]
    fn clear_(&mut self) {}
}

fn main() {}
