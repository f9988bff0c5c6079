"""Conan 2 recipe for pgps, a header-only library.

    conan create . -o "pgps/*:with_xtensor=True"   # builds test_package against the package
"""
import os

from conan import ConanFile
from conan.tools.build import check_min_cppstd
from conan.tools.cmake import CMake, CMakeToolchain, cmake_layout
from conan.tools.files import copy, load


class PgpsConan(ConanFile):
    name = "pgps"
    description = ("Header-only C++20 curriculum samplers for 3D medical image segmentation "
                   "(Progressive Growing of Patch Size)")
    license = "Apache-2.0"
    url = "https://github.com/pgps/pgps"
    homepage = "https://github.com/pgps/pgps"
    topics = ("medical-imaging", "segmentation", "curriculum-learning", "header-only")
    package_type = "header-library"
    settings = "os", "arch", "compiler", "build_type"
    options = {"with_xtensor": [True, False], "with_eigen": [True, False], "with_tbb": [True, False]}
    default_options = {"with_xtensor": False, "with_eigen": False, "with_tbb": False}
    exports_sources = "CMakeLists.txt", "LICENSE", "cmake/*", "include/*"
    no_copy_source = True

    def set_version(self):
        cmake = load(self, os.path.join(self.recipe_folder, "CMakeLists.txt"))
        self.version = cmake.split("VERSION ", 2)[2].split()[0]

    def requirements(self):
        if self.options.with_xtensor:
            self.requires("xtensor/0.24.7")
        if self.options.with_eigen:
            self.requires("eigen/3.4.0")
        if self.options.with_tbb:
            self.requires("onetbb/2021.10.0")

    def validate(self):
        check_min_cppstd(self, 20)

    def layout(self):
        cmake_layout(self)

    def package_id(self):
        self.info.clear()

    def package(self):
        copy(self, "LICENSE", self.source_folder, os.path.join(self.package_folder, "licenses"))
        copy(self, "*.hpp", os.path.join(self.source_folder, "include"),
             os.path.join(self.package_folder, "include"))
        copy(self, "*.cuh", os.path.join(self.source_folder, "include"),
             os.path.join(self.package_folder, "include"))

    def package_info(self):
        self.cpp_info.set_property("cmake_file_name", "pgps")
        self.cpp_info.bindirs = []
        self.cpp_info.libdirs = []
        core = self.cpp_info.components["core"]
        core.set_property("cmake_target_name", "pgps::pgps")
        core.system_libs = ["pthread"] if self.settings.os in ("Linux", "FreeBSD") else []
        for option, component, requirement in (("with_xtensor", "xtensor", "xtensor::xtensor"),
                                               ("with_eigen", "eigen", "eigen::eigen"),
                                               ("with_tbb", "tbb", "onetbb::onetbb")):
            if self.options.get_safe(option):
                extra = self.cpp_info.components[component]
                extra.set_property("cmake_target_name", f"pgps::{component}")
                extra.requires = ["core", requirement]
