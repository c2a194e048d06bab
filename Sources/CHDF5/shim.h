#ifndef LSTMCONV_CHDF5_SHIM_H
#define LSTMCONV_CHDF5_SHIM_H

// The names of libhdf5 that Swift cannot import directly: library-initialised globals behind macros
// (H5T_*, H5P_CLS_*, H5F_ACC_*, H5E_* messages), typed constants, and versioned API names whose
// mapping differs between HDF5 1.10 (Debian 12) and 1.12+ (Homebrew). Only HDF5Bridge imports this.
// Every helper is a `static inline` one-liner named `chdf5_*`.

#include <hdf5.h>
#include <string.h>

// MARK: - Constants

static inline hid_t chdf5_default(void) { return (hid_t)H5P_DEFAULT; }
static inline hid_t chdf5_error_default(void) { return (hid_t)H5E_DEFAULT; }
static inline hid_t chdf5_space_all(void) { return (hid_t)H5S_ALL; }
static inline size_t chdf5_variable_size(void) { return (size_t)H5T_VARIABLE; }
static inline unsigned chdf5_obj_all(void) { return (unsigned)H5F_OBJ_ALL; }
static inline unsigned chdf5_acc_rdonly(void) { return H5F_ACC_RDONLY; }
static inline unsigned chdf5_acc_excl(void) { return H5F_ACC_EXCL; }
static inline unsigned chdf5_crt_order_tracked(void) { return H5P_CRT_ORDER_TRACKED; }
static inline unsigned chdf5_crt_order_indexed(void) { return H5P_CRT_ORDER_INDEXED; }

// MARK: - Property list classes

static inline hid_t chdf5_cls_file_create(void) { return H5P_FILE_CREATE; }
static inline hid_t chdf5_cls_file_access(void) { return H5P_FILE_ACCESS; }
static inline hid_t chdf5_cls_group_create(void) { return H5P_GROUP_CREATE; }
static inline hid_t chdf5_cls_dataset_create(void) { return H5P_DATASET_CREATE; }
static inline hid_t chdf5_cls_attribute_create(void) { return H5P_ATTRIBUTE_CREATE; }

// MARK: - Datatypes

static inline hid_t chdf5_native_float(void) { return H5T_NATIVE_FLOAT; }
static inline hid_t chdf5_native_double(void) { return H5T_NATIVE_DOUBLE; }
static inline hid_t chdf5_native_int64(void) { return H5T_NATIVE_INT64; }
static inline hid_t chdf5_native_uint64(void) { return H5T_NATIVE_UINT64; }
static inline hid_t chdf5_native_uint32(void) { return H5T_NATIVE_UINT32; }
static inline hid_t chdf5_native_uint8(void) { return H5T_NATIVE_UINT8; }
static inline hid_t chdf5_std_i64le(void) { return H5T_STD_I64LE; }
static inline hid_t chdf5_std_u8le(void) { return H5T_STD_U8LE; }
static inline hid_t chdf5_std_u32le(void) { return H5T_STD_U32LE; }
static inline hid_t chdf5_ieee_f32le(void) { return H5T_IEEE_F32LE; }
static inline hid_t chdf5_ieee_f64le(void) { return H5T_IEEE_F64LE; }
static inline hid_t chdf5_c_s1(void) { return H5T_C_S1; }

// MARK: - Error messages

static inline hid_t chdf5_minor_truncated(void) { return H5E_TRUNCATED; }
static inline hid_t chdf5_minor_not_hdf5(void) { return H5E_NOTHDF5; }

static inline herr_t chdf5_disable_auto_print(void) { return H5Eset_auto2(H5E_DEFAULT, NULL, NULL); }
static inline herr_t chdf5_walk_errors(hid_t stack, H5E_walk2_t callback, void *context) {
    return H5Ewalk2(stack, H5E_WALK_DOWNWARD, callback, context);
}

// MARK: - Versioned names

static inline htri_t chdf5_is_hdf5(const char *path) {
#if H5_VERSION_GE(1, 12, 0)
    return H5Fis_accessible(path, H5P_DEFAULT);
#else
    return H5Fis_hdf5(path);
#endif
}

static inline hid_t chdf5_gopen(hid_t loc, const char *name) { return H5Gopen2(loc, name, H5P_DEFAULT); }
static inline hid_t chdf5_gcreate(hid_t loc, const char *name, hid_t gcpl) {
    return H5Gcreate2(loc, name, H5P_DEFAULT, gcpl, H5P_DEFAULT);
}
static inline hid_t chdf5_dopen(hid_t loc, const char *name) { return H5Dopen2(loc, name, H5P_DEFAULT); }
static inline hid_t chdf5_dcreate(hid_t loc, const char *name, hid_t type, hid_t space, hid_t dcpl) {
    return H5Dcreate2(loc, name, type, space, H5P_DEFAULT, dcpl, H5P_DEFAULT);
}
static inline hid_t chdf5_acreate(hid_t loc, const char *name, hid_t type, hid_t space, hid_t acpl) {
    return H5Acreate2(loc, name, type, space, acpl, H5P_DEFAULT);
}
static inline hid_t chdf5_aopen(hid_t loc, const char *name) { return H5Aopen(loc, name, H5P_DEFAULT); }

/// The type of the link `name` in `loc` (an `H5L_type_t` value), or -1.
static inline int chdf5_link_type(hid_t loc, const char *name) {
#if H5_VERSION_GE(1, 12, 0)
    H5L_info2_t info;
    if (H5Lget_info2(loc, name, &info, H5P_DEFAULT) < 0) return -1;
#else
    H5L_info_t info;
    if (H5Lget_info(loc, name, &info, H5P_DEFAULT) < 0) return -1;
#endif
    return (int)info.type;
}

/// The size of a soft or external link's value (the target), or -1.
static inline ssize_t chdf5_link_value_size(hid_t loc, const char *name) {
#if H5_VERSION_GE(1, 12, 0)
    H5L_info2_t info;
    if (H5Lget_info2(loc, name, &info, H5P_DEFAULT) < 0) return -1;
#else
    H5L_info_t info;
    if (H5Lget_info(loc, name, &info, H5P_DEFAULT) < 0) return -1;
#endif
    if (info.type == H5L_TYPE_HARD) return 0;
    return (ssize_t)info.u.val_size;
}

/// The type of the object reached by `name` from `loc` (an `H5O_type_t` value), or -1.
static inline int chdf5_object_type(hid_t loc, const char *name) {
#if H5_VERSION_GE(1, 12, 0)
    H5O_info2_t info;
    if (H5Oget_info_by_name3(loc, name, &info, H5O_INFO_BASIC, H5P_DEFAULT) < 0) return -1;
#else
    H5O_info_t info;
    if (H5Oget_info_by_name2(loc, name, &info, H5O_INFO_BASIC, H5P_DEFAULT) < 0) return -1;
#endif
    return (int)info.type;
}

/// Identifies the object reached by `name` from `loc` within its file: writes 16 bytes (the object's address in
/// HDF5 1.10, its token in 1.12+) to `key`. Returns 0, or -1 on failure.
static inline int chdf5_object_key(hid_t loc, const char *name, unsigned char key[16]) {
    memset(key, 0, 16);
#if H5_VERSION_GE(1, 12, 0)
    H5O_info2_t info;
    if (H5Oget_info_by_name3(loc, name, &info, H5O_INFO_BASIC, H5P_DEFAULT) < 0) return -1;
    memcpy(key, &info.token, sizeof(info.token) < 16 ? sizeof(info.token) : 16);
#else
    H5O_info_t info;
    if (H5Oget_info_by_name2(loc, name, &info, H5O_INFO_BASIC, H5P_DEFAULT) < 0) return -1;
    memcpy(key, &info.addr, sizeof(info.addr) < 16 ? sizeof(info.addr) : 16);
#endif
    return 0;
}

/// The number of attributes attached to the object `loc`, or -1.
static inline long long chdf5_attribute_count(hid_t loc) {
#if H5_VERSION_GE(1, 12, 0)
    H5O_info2_t info;
    if (H5Oget_info3(loc, &info, H5O_INFO_NUM_ATTRS) < 0) return -1;
#else
    H5O_info_t info;
    if (H5Oget_info2(loc, &info, H5O_INFO_NUM_ATTRS) < 0) return -1;
#endif
    return (long long)info.num_attrs;
}

/// The filter at `index` of a dataset creation property list (an `H5Z_filter_t`), or -1.
static inline H5Z_filter_t chdf5_filter(hid_t dcpl, unsigned index) {
    unsigned flags = 0;
    size_t count = 0;
    unsigned config = 0;
    return H5Pget_filter2(dcpl, index, &flags, &count, NULL, 0, NULL, &config);
}

/// Frees the memory libhdf5 allocated while reading variable-length data into `buffer`.
static inline herr_t chdf5_reclaim(hid_t type, hid_t space, void *buffer) {
#if H5_VERSION_GE(1, 12, 0)
    return H5Treclaim(type, space, H5P_DEFAULT, buffer);
#else
    return H5Dvlen_reclaim(type, space, H5P_DEFAULT, buffer);
#endif
}

#endif
