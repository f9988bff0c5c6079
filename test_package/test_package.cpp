#include <cstdio>
#include <vector>

#include <pgps/pgps.hpp>

int main() {
  std::vector<short> labels(8 * 8 * 8, 0);
  const auto view = pgps::contiguous_view(labels.data(), pgps::extent3{8, 8, 8});
  pgps::random_stream stream(pgps::counter{1, 0, 0, 0, 0});
  std::printf("pgps %d.%d.%d: %lld voxels, draw %lld\n", pgps::version_major, pgps::version_minor,
              pgps::version_patch, static_cast<long long>(view.voxels()),
              static_cast<long long>(stream.uniform_int(0, 9)));
  return 0;
}
