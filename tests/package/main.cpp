// Built against an installed octet: multiplies two small int8 matrices and checks one entry.
#include <cstdio>
#include <octet/octet.hpp>

int main() {
  octet::MatrixXi8 a = octet::MatrixXi8::Constant(3, 5, -128), b = octet::MatrixXi8::Constant(5, 2, 127);
  const octet::MatrixXi32 c = octet::gemm_i8(a, b);
  std::printf("octet %s: c(0,0) = %d\n", octet::active_isa(), c(0, 0));
  return c(0, 0) == 5 * -128 * 127 ? 0 : 1;
}
