// Uses the installed headers through the umbrella header; fails loudly if they disagree.
#include <cstdio>
#include <vector>

#include <pgps/pgps.hpp>

int main() {
  std::vector<float> memory(4 * 5 * 6, 1.0f);
  const auto view = pgps::contiguous_view(memory.data(), pgps::extent3{4, 5, 6});
  pgps::random_stream stream(pgps::counter{1, 2, 3, 0, 4});
  const auto draw = stream.uniform_int(0, 9);
  if (view.voxels() != 120 || draw < 0 || draw > 9) {
    std::puts("pgps consumer: unexpected result");
    return 1;
  }
  try {
    (void)pgps::contiguous_view(memory.data(), pgps::extent3{0, 5, 6});
    std::puts("pgps consumer: a zero extent was accepted");
    return 1;
  } catch (const pgps::error& e) {
    std::printf("pgps consumer ok (%s)\n", e.what());
  }
  return 0;
}
