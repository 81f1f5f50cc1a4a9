// octet's compiled library (CMake target octet::compiled): the bodies that the headers only declare when
// OCTET_COMPILED_LIB is defined, instantiated here once for the whole program: each for the one scalar type it
// takes, and forward for every pair of activation and result types it accepts, so that no consumer ever needs a
// body the library lacks.
#ifndef OCTET_COMPILED_LIB
#  define OCTET_COMPILED_LIB 1
#endif
#define OCTET_COMPILING_LIB 1
#include <octet/octet.hpp>

namespace octet {

template PackedB::PackedB(const detail::ConstView<std::int8_t>&, Isa);
template void detail::gemm_i8_into<std::int8_t>(const detail::ConstView<std::int8_t>&, const detail::PackedBData&,
                                                const detail::MutView<std::int32_t>&);
template Eigen::MatrixXf detail::llm::matmul_llm_int8<float>(const detail::ConstView<float>&,
                                                             const detail::ConstView<float>&, const float*, const char*);
template std::vector<Eigen::Index> detail::llm::outlier_columns<float>(const detail::ConstView<float>&, float);
template void LLMInt8Linear::prepare<float>(const detail::ConstView<float>&, const char*, const char*);
template void LLMInt8Linear::pack_codes<std::int8_t>(const detail::ConstView<std::int8_t>&);

#define OCTET_FORWARD_VIEW(TX, TY)                                                                              \
  template void LLMInt8Linear::forward_view<TX, TY>(const detail::ConstView<TX>&, const detail::MutView<TY>&, \
                                                    LLMInt8Stats*) const;
#define OCTET_FORWARD_VIEWS(TX)         \
  OCTET_FORWARD_VIEW(TX, float)           \
  OCTET_FORWARD_VIEW(TX, Eigen::bfloat16) \
  OCTET_FORWARD_VIEW(TX, Eigen::half)
OCTET_FORWARD_VIEWS(float)
OCTET_FORWARD_VIEWS(Eigen::bfloat16)
OCTET_FORWARD_VIEWS(Eigen::half)
#undef OCTET_FORWARD_VIEWS
#undef OCTET_FORWARD_VIEW

}  // namespace octet
