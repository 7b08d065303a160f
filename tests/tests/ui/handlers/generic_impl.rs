use supervise::handlers;

#[derive(Clone)]
struct Cache<T>(T);

#[handlers]
impl<T: Clone + Send + 'static> Cache<T> {
    #[cast]
    fn clear(&mut self) {}
}

fn main() {}
