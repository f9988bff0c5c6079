#include "pgps/adapters/xtensor.hpp"

#include <vector>

#include "pgps/sampling/class_index.hpp"
#include "pgps_catch.hpp"

using pgps::extent3;
using pgps::index3;

TEST_CASE("xtensor containers become volume views", "[adapters][xtensor]") {
  xt::xtensor<float, 3> t = xt::zeros<float>({3, 4, 5});
  t(1, 2, 3) = 7.0f;
  const auto v = pgps::view_of(t);
  static_assert(std::is_same_v<decltype(v), const pgps::volume_view<float>>);
  REQUIRE(v.extent == extent3{3, 4, 5});
  REQUIRE(v.stride == index3{20, 5, 1});
  REQUIRE(v(1, 2, 3) == 7.0f);

  const xt::xtensor<float, 3>& ct = t;
  const auto cv = pgps::view_of(ct);
  static_assert(std::is_same_v<decltype(cv), const pgps::volume_view<const float>>);
  REQUIRE(cv(1, 2, 3) == 7.0f);

  // Column-major storage maps to the transposed strides, same voxels.
  xt::xtensor<std::int16_t, 3, xt::layout_type::column_major> f = xt::zeros<std::int16_t>({3, 4, 5});
  f(2, 1, 4) = 9;
  const auto fv = pgps::view_of(f);
  REQUIRE(fv.stride == index3{1, 3, 12});
  REQUIRE(fv(2, 1, 4) == 9);

  // Four channels first: C×D×H×W.
  xt::xarray<double> a = xt::zeros<double>({2, 3, 4, 5});
  a(1, 2, 3, 4) = 5.0;
  const auto av = pgps::view_of(a);
  REQUIRE(av.channels == 2);
  REQUIRE(av.channel_stride == 60);
  REQUIRE(av.at(index3{2, 3, 4}, 1) == 5.0);

  // Adaptors over user memory, and a strided view with an offset.
  std::vector<std::uint8_t> memory(60, 0);
  memory[59] = 3;
  auto adapted =
      xt::adapt(memory.data(), memory.size(), xt::no_ownership(), std::vector<std::size_t>{3, 4, 5});
  const auto adv = pgps::view_of(adapted);
  REQUIRE(adv.data == memory.data());
  REQUIRE(adv(2, 3, 4) == 3);
  auto strided = xt::strided_view(t, {xt::range(1, 3), xt::all(), xt::range(1, 5, 2)});
  const auto sv = pgps::view_of(strided);
  REQUIRE(sv.extent == extent3{2, 4, 2});
  REQUIRE(sv.stride == index3{20, 5, 2});
  REQUIRE(sv(0, 2, 1) == 7.0f);

  // A class index straight from an xtensor label volume.
  xt::xtensor<std::int16_t, 3> labels = xt::zeros<std::int16_t>({4, 4, 4});
  labels(3, 3, 3) = 2;
  const pgps::class_index index = pgps::build_class_index(labels, pgps::class_index_options{3});
  REQUIRE(index.true_count(2) == 1);
  REQUIRE(index.location(2, 0) == index3{3, 3, 3});
}

TEST_CASE("xtensor views of the wrong rank or with reversed strides are rejected",
          "[adapters][xtensor][errors]") {
  xt::xarray<float> flat = xt::zeros<float>({4, 5});
  PGPS_REQUIRE_ERROR(pgps::view_of(flat), "xtensor volume has rank 2");
  xt::xtensor<float, 3> t = xt::zeros<float>({3, 4, 5});
  using xt::placeholders::_;
  auto reversed = xt::strided_view(t, {xt::all(), xt::range(_, _, -1), xt::all()});
  PGPS_REQUIRE_ERROR(pgps::view_of(reversed), "non-positive entry on axis 1");
}
