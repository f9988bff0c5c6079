#include "pgps/adapters/nifti.hpp"

#include <cmath>
#include <cstdint>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <limits>
#include <string>
#include <vector>

#include <unistd.h>

#include "pgps_catch.hpp"

namespace {

namespace fs = std::filesystem;

// A fresh directory per test case, removed afterwards.
struct temp_dir {
  fs::path path;
  explicit temp_dir(const std::string& name)
      : path(fs::temp_directory_path() / ("pgps_nifti_test_" + name + "_" + std::to_string(::getpid()))) {
    fs::remove_all(path);
    fs::create_directories(path);
  }
  ~temp_dir() {
    std::error_code ec;
    fs::remove_all(path, ec);
  }
  std::string file(const std::string& name) const { return (path / name).string(); }
};

// Values that exercise the type's range: small, negative where possible, the extremes.
template <class T>
pgps::nifti::image<T> ramp_image(const pgps::extent3& extent) {
  auto img = pgps::nifti::make_image<T>(extent, {2.5, 1.25, 0.75});
  for (std::size_t i = 0; i < img.voxels.size(); ++i) {
    const auto k = static_cast<std::int64_t>(i % 97);
    if constexpr (std::is_floating_point_v<T>) {
      img.voxels[i] = static_cast<T>(k) * T(0.25) - T(7.5);
    } else if constexpr (std::is_signed_v<T>) {
      img.voxels[i] = static_cast<T>(k - 48);
    } else {
      img.voxels[i] = static_cast<T>(k);
    }
  }
  img.voxels.front() = std::numeric_limits<T>::lowest();
  img.voxels.back() = std::numeric_limits<T>::max();
  return img;
}

template <class T>
void check_round_trip(const temp_dir& dir, const std::string& suffix) {
  const pgps::extent3 extent{3, 4, 5};
  const auto written = ramp_image<T>(extent);
  const std::string path = dir.file(std::string("v_") + pgps::nifti::detail::type_name<T>() + suffix);
  pgps::nifti::write(path, written);
  const auto read = pgps::nifti::read<T>(path);
  REQUIRE(read.extent == extent);
  REQUIRE(read.voxels == written.voxels);
  REQUIRE(read.stored_datatype == static_cast<int>(pgps::nifti::datatype_of<T>()));
  CHECK(read.spacing[0] == Approx(2.5));
  CHECK(read.spacing[1] == Approx(1.25));
  CHECK(read.spacing[2] == Approx(0.75));
}

}  // namespace

TEMPLATE_TEST_CASE("nifti write/read round trip keeps every stored type exactly", "[nifti]", std::uint8_t,
                   std::int8_t, std::int16_t, std::uint16_t, std::int32_t, std::uint32_t, std::int64_t,
                   std::uint64_t, float, double) {
  temp_dir dir("round_trip");
  SECTION("uncompressed .nii") { check_round_trip<TestType>(dir, ".nii"); }
  SECTION("gzip-compressed .nii.gz") { check_round_trip<TestType>(dir, ".nii.gz"); }
  SECTION("header + image pair .hdr/.img") { check_round_trip<TestType>(dir, ".hdr"); }
}

TEST_CASE("nifti extent follows the file's x-fastest layout as (z, y, x)", "[nifti]") {
  temp_dir dir("layout");
  auto img = pgps::nifti::make_image<std::int16_t>({2, 3, 4});
  for (std::int64_t z = 0; z < 2; ++z)
    for (std::int64_t y = 0; y < 3; ++y)
      for (std::int64_t x = 0; x < 4; ++x)
        img.view()(z, y, x) = static_cast<std::int16_t>(100 * z + 10 * y + x);
  const std::string path = dir.file("layout.nii");
  pgps::nifti::write(path, img);

  // niftilib's own view of the file: nx is the fastest axis.
  nifti_image* nim = nifti_image_read(path.c_str(), 1);
  REQUIRE(nim != nullptr);
  CHECK(nim->nx == 4);
  CHECK(nim->ny == 3);
  CHECK(nim->nz == 2);
  const auto* raw = static_cast<const std::int16_t*>(nim->data);
  CHECK(raw[1] == 1);     // x + 1
  CHECK(raw[4] == 10);    // y + 1
  CHECK(raw[12] == 100);  // z + 1
  nifti_image_free(nim);

  const auto read = pgps::nifti::read<float>(path);
  REQUIRE(read.extent == pgps::extent3{2, 3, 4});
  CHECK(read.view()(1, 2, 3) == 123.0f);
  CHECK(read.view()(0, 1, 2) == 12.0f);
}

TEST_CASE("nifti converts stored types and checks what integer targets can hold", "[nifti]") {
  temp_dir dir("convert");
  SECTION("integer labels stored as float read back as integers") {
    auto img = pgps::nifti::make_image<float>({1, 2, 3});
    img.voxels = {0.f, 1.f, 2.f, 37.f, 42.f, 255.f};
    const std::string path = dir.file("labels_float.nii.gz");
    pgps::nifti::write(path, img);
    const auto labels = pgps::nifti::read<std::uint8_t>(path);
    CHECK(labels.voxels == std::vector<std::uint8_t>{0, 1, 2, 37, 42, 255});
    CHECK(labels.stored_datatype == DT_FLOAT32);
  }
  SECTION("a non-integral value is refused for an integer target") {
    auto img = pgps::nifti::make_image<float>({1, 1, 3});
    img.voxels = {0.f, 1.5f, 2.f};
    const std::string path = dir.file("fraction.nii");
    pgps::nifti::write(path, img);
    PGPS_REQUIRE_ERROR(pgps::nifti::read<std::int32_t>(path), "voxel 1 holds 1.5, which is not an integer");
    CHECK(pgps::nifti::read<double>(path).voxels[1] == 1.5);
  }
  SECTION("NaN and infinity are refused for an integer target, kept for a float target") {
    auto img = pgps::nifti::make_image<double>({1, 1, 3});
    img.voxels = {1.0, std::numeric_limits<double>::quiet_NaN(), std::numeric_limits<double>::infinity()};
    const std::string path = dir.file("nan.nii");
    pgps::nifti::write(path, img);
    PGPS_REQUIRE_ERROR(pgps::nifti::read<std::int16_t>(path), "voxel 1 holds nan");
    const auto floats = pgps::nifti::read<float>(path);
    CHECK(std::isnan(floats.voxels[1]));
    CHECK(std::isinf(floats.voxels[2]));
  }
  SECTION("an out-of-range integer is refused") {
    auto img = pgps::nifti::make_image<std::int16_t>({1, 1, 3});
    img.voxels = {0, 300, -1};
    const std::string path = dir.file("wide.nii");
    pgps::nifti::write(path, img);
    PGPS_REQUIRE_ERROR(pgps::nifti::read<std::uint8_t>(path),
                       "voxel 1 holds 300, which is outside the range");
    PGPS_REQUIRE_ERROR(pgps::nifti::read<std::uint16_t>(path), "voxel 2 holds -1");
    CHECK(pgps::nifti::read<std::int32_t>(path).voxels == std::vector<std::int32_t>{0, 300, -1});
  }
  SECTION("uint64 extremes are checked without going through double") {
    auto img = pgps::nifti::make_image<std::uint64_t>({1, 1, 2});
    img.voxels = {std::numeric_limits<std::uint64_t>::max(), 7};
    const std::string path = dir.file("u64.nii");
    pgps::nifti::write(path, img);
    PGPS_REQUIRE_ERROR(pgps::nifti::read<std::int64_t>(path), "voxel 0 holds 18446744073709551615");
    CHECK(pgps::nifti::read<std::uint64_t>(path).voxels == img.voxels);
  }
  SECTION("writing as a narrower stored type checks every value and writes nothing on failure") {
    auto img = pgps::nifti::make_image<float>({1, 1, 3});
    img.voxels = {1.f, 2.f, 3.f};
    const std::string path = dir.file("narrow.nii");
    pgps::nifti::write(path, img, pgps::nifti::datatype::uint8);
    const auto back = pgps::nifti::read<float>(path);
    CHECK(back.voxels == img.voxels);
    CHECK(back.stored_datatype == DT_UINT8);

    img.voxels[2] = 256.f;
    const std::string bad = dir.file("narrow_bad.nii");
    PGPS_REQUIRE_ERROR(pgps::nifti::write(bad, img, pgps::nifti::datatype::uint8), "voxel 2 holds 256");
    CHECK_FALSE(fs::exists(bad));
  }
}

TEST_CASE("nifti applies scl_slope and scl_inter", "[nifti]") {
  temp_dir dir("scaling");
  const std::string path = dir.file("scaled.nii");
  {
    auto img = pgps::nifti::make_image<std::int16_t>({1, 1, 4});
    img.voxels = {0, 1, 2, 3};
    pgps::nifti::write(path, img);
  }
  // Rewrite the header with a slope and intercept, as scanners' converters do.
  nifti_image* nim = nifti_image_read(path.c_str(), 1);
  REQUIRE(nim != nullptr);
  nim->scl_slope = 0.5f;
  nim->scl_inter = 10.0f;
  nifti_image_write(nim);
  nifti_image_free(nim);

  const auto values = pgps::nifti::read<float>(path);
  CHECK(values.voxels == std::vector<float>{10.f, 10.5f, 11.f, 11.5f});
  // 10.5 is not an integer, so the integer read reports it rather than truncating.
  PGPS_REQUIRE_ERROR(pgps::nifti::read<std::int32_t>(path), "voxel 1 holds 10.5");
}

TEST_CASE("nifti reads files written in the other byte order", "[nifti]") {
  temp_dir dir("byte_order");
  // Build a foreign-endian file by hand: niftilib always writes the machine's own order.
  const int dims[8] = {3, 3, 1, 1, 1, 1, 1, 1};
  nifti_image* nim = nifti_make_new_nim(dims, DT_INT16, 0);
  REQUIRE(nim != nullptr);
  nifti_1_header header = nifti_convert_nim2nhdr(nim);
  nifti_image_free(nim);
  header.vox_offset = 352.0f;
  std::memcpy(header.magic, "n+1", 4);
  swap_nifti_header(&header, 1);
  std::int16_t voxels[3] = {1, -2, 0x1234};
  nifti_swap_Nbytes(3, 2, voxels);
  const std::string path = dir.file("swapped.nii");
  {
    std::ofstream out(path, std::ios::binary);
    out.write(reinterpret_cast<const char*>(&header), sizeof header);
    const char no_extension[4] = {0, 0, 0, 0};
    out.write(no_extension, 4);
    out.write(reinterpret_cast<const char*>(voxels), sizeof voxels);
  }
  CHECK(pgps::nifti::read<std::int32_t>(path).voxels == std::vector<std::int32_t>{1, -2, 0x1234});
}

TEST_CASE("nifti keeps the affine through sform and qform", "[nifti]") {
  temp_dir dir("affine");
  auto img = pgps::nifti::make_image<float>({4, 5, 6}, {3.0, 2.0, 1.0});
  // A 90-degree rotation about z plus a translation; the column norms equal the spacing.
  img.affine = {{{0, -2, 0, 10}, {1, 0, 0, -20}, {0, 0, 3, 5}, {0, 0, 0, 1}}};
  img.sform_code = NIFTI_XFORM_ALIGNED_ANAT;
  img.qform_code = NIFTI_XFORM_SCANNER_ANAT;
  const std::string path = dir.file("affine.nii.gz");
  pgps::nifti::write(path, img);
  const auto read = pgps::nifti::read<float>(path);
  CHECK(read.sform_code == NIFTI_XFORM_ALIGNED_ANAT);
  CHECK(read.qform_code == NIFTI_XFORM_SCANNER_ANAT);
  for (std::size_t r = 0; r < 4; ++r)
    for (std::size_t c = 0; c < 4; ++c) CHECK(read.affine[r][c] == Approx(img.affine[r][c]).margin(1e-5));

  // Without a transform the affine is the spacing alone.
  auto plain = pgps::nifti::make_image<float>({2, 2, 2}, {3.0, 2.0, 1.0});
  const std::string plain_path = dir.file("plain.nii");
  pgps::nifti::write(plain_path, plain);
  const auto plain_read = pgps::nifti::read<float>(plain_path);
  CHECK(plain_read.sform_code == 0);
  CHECK(plain_read.qform_code == 0);
  CHECK(plain_read.affine == pgps::nifti::spacing_affine({3.0, 2.0, 1.0}));
}

TEST_CASE("nifti reports missing, corrupt and unsuitable files clearly", "[nifti]") {
  temp_dir dir("errors");
  SECTION("missing file") {
    PGPS_REQUIRE_ERROR(pgps::nifti::read<float>(dir.file("absent.nii.gz")), "no such file");
  }
  SECTION("not a NIfTI file") {
    const std::string path = dir.file("garbage.nii");
    std::ofstream(path) << "this is not a NIfTI header, just some text that is long enough to be read";
    PGPS_REQUIRE_ERROR(pgps::nifti::read<float>(path), "not a valid NIfTI-1");
  }
  SECTION("truncated voxel data") {
    auto img = pgps::nifti::make_image<float>({8, 8, 8});
    const std::string path = dir.file("truncated.nii");
    pgps::nifti::write(path, img);
    fs::resize_file(path, fs::file_size(path) - 100);
    PGPS_REQUIRE_ERROR(pgps::nifti::read<float>(path), "corrupt or truncated");
  }
  SECTION("a 4D series where a 3D volume is asked for") {
    const int dims[8] = {4, 3, 3, 3, 2, 1, 1, 1};
    nifti_image* nim = nifti_make_new_nim(dims, DT_FLOAT32, 1);
    REQUIRE(nim != nullptr);
    const std::string path = dir.file("series.nii");
    REQUIRE(nifti_set_filenames(nim, path.c_str(), 0, 1) == 0);
    nifti_image_write(nim);
    nifti_image_free(nim);
    PGPS_REQUIRE_ERROR(pgps::nifti::read<float>(path), "dim[4] = 2; a 3D volume was asked for");
  }
  SECTION("a 4D file with a single time point is a 3D volume") {
    const int dims[8] = {4, 3, 2, 5, 1, 1, 1, 1};
    nifti_image* nim = nifti_make_new_nim(dims, DT_UINT8, 1);
    REQUIRE(nim != nullptr);
    const std::string path = dir.file("single.nii");
    REQUIRE(nifti_set_filenames(nim, path.c_str(), 0, 1) == 0);
    nifti_image_write(nim);
    nifti_image_free(nim);
    CHECK(pgps::nifti::read<std::uint8_t>(path).extent == pgps::extent3{5, 2, 3});
  }
  SECTION("complex voxels") {
    const int dims[8] = {3, 2, 2, 2, 1, 1, 1, 1};
    nifti_image* nim = nifti_make_new_nim(dims, DT_COMPLEX64, 1);
    REQUIRE(nim != nullptr);
    const std::string path = dir.file("complex.nii");
    REQUIRE(nifti_set_filenames(nim, path.c_str(), 0, 1) == 0);
    nifti_image_write(nim);
    nifti_image_free(nim);
    PGPS_REQUIRE_ERROR(pgps::nifti::read<float>(path), "COMPLEX64");
  }
  SECTION("bad writes") {
    auto img = pgps::nifti::make_image<float>({2, 2, 2});
    PGPS_REQUIRE_ERROR(pgps::nifti::write(dir.file("no_such_dir/x.nii"), img), "does not exist");
    PGPS_REQUIRE_ERROR(pgps::nifti::write(dir.file("wrong.png"), img), "must end in .nii");
    img.voxels.pop_back();
    PGPS_REQUIRE_ERROR(pgps::nifti::write(dir.file("short.nii"), img), "7 voxels for extent");
    img.voxels.push_back(0.f);
    img.spacing[1] = 0.0;
    PGPS_REQUIRE_ERROR(pgps::nifti::write(dir.file("flat.nii"), img), "spacing 0 on axis 1");
  }
  SECTION("make_image rejects an empty extent") {
    PGPS_REQUIRE_ERROR(pgps::nifti::make_image<float>({0, 2, 2}), "non-positive axis");
  }
}

TEST_CASE("nifti reads the AAL atlas shipped with mricron-data", "[nifti][data]") {
  const std::string path = "/usr/share/mricron/templates/aal.nii.gz";
  if (!fs::exists(path)) {
    WARN("skipped: " << path << " is not installed (Debian package mricron-data)");
    return;
  }
  const auto aal = pgps::nifti::read<std::uint8_t>(path);
  REQUIRE(aal.extent == pgps::extent3{181, 217, 181});
  CHECK(aal.spacing == std::array<double, 3>{1.0, 1.0, 1.0});
  CHECK(aal.sform_code > 0);
  std::int64_t hippocampus_left = 0;
  std::uint8_t largest = 0;
  for (const std::uint8_t v : aal.voxels) {
    hippocampus_left += v == 37 ? 1 : 0;
    largest = std::max(largest, v);
  }
  CHECK(hippocampus_left == 7469);  // counted independently from the raw gzip stream
  CHECK(largest == 116);            // AAL has 116 regions
}
