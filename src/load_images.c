/* load_images.c — a folder of images, one subfolder per class (as Keras'
 * image_dataset_from_directory): classes are the subfolders sorted by name, images are PNG, JPEG,
 * BMP or GIF decoded with stb_image and resized with stb_image_resize when their size differs. */
#include "dataset.h"

#include <ctype.h>
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

#include <stb/stb_image.h>
#include <stb/stb_image_resize.h>

typedef struct name_list {
    char **names;
    int count, cap;
} name_list;

static void free_names(name_list *l) {
    for (int i = 0; i < l->count; i++) free(l->names[i]);
    free(l->names);
    memset(l, 0, sizeof *l);
}

static int compare_names(const void *a, const void *b) { return strcmp(*(char *const *)a, *(char *const *)b); }

static int is_image_name(const char *name) {
    const char *dot = strrchr(name, '.');
    return dot && (!strcasecmp(dot, ".png") || !strcasecmp(dot, ".jpg") || !strcasecmp(dot, ".jpeg") ||
                   !strcasecmp(dot, ".bmp") || !strcasecmp(dot, ".gif"));
}

/* Sorted entries of dir: subdirectories (want_dirs) or image files. */
static fv_status list_dir(const char *dir, int want_dirs, name_list *out, fv_error *err) {
    DIR *d = opendir(dir);
    if (!d) return fv_fail(err, "%s: cannot open the folder", dir);
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        if (e->d_name[0] == '.') continue;
        char path[4096];
        struct stat st;
        snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
        if (stat(path, &st) != 0) continue;
        if (want_dirs ? !S_ISDIR(st.st_mode) : !(S_ISREG(st.st_mode) && is_image_name(e->d_name))) continue;
        if (out->count == out->cap) {
            int cap = out->cap ? 2 * out->cap : 64;
            char **grown = realloc(out->names, (size_t)cap * sizeof *grown);
            if (!grown) return closedir(d), fv_fail(err, "out of memory listing %s", dir);
            out->names = grown, out->cap = cap;
        }
        if (!(out->names[out->count] = strdup(e->d_name))) return closedir(d), fv_fail(err, "out of memory listing %s", dir);
        out->count++;
    }
    closedir(d);
    if (out->count > 1) qsort(out->names, (size_t)out->count, sizeof *out->names, compare_names);
    return FV_OK;
}

fv_dataset *fv_load_image_folder(const char *dir, int height, int width, int channels, fv_error *err) {
    if (channels != 1 && channels != 3) return fv_fail(err, "images load with 1 or 3 channels, not %d", channels), NULL;
    name_list classes = {0}, files = {0};
    fv_dataset *d = NULL;
    unsigned char *resized = NULL;
    if (list_dir(dir, 1, &classes, err) != FV_OK) goto done;
    if (classes.count < 1) {
        fv_fail(err, "%s: no class subfolders (expected DIR/CLASS/image.png)", dir);
        goto done;
    }
    size_t total = 0;
    for (int c = 0; c < classes.count; c++) {
        char sub[4096];
        snprintf(sub, sizeof sub, "%s/%s", dir, classes.names[c]);
        name_list one = {0};
        if (list_dir(sub, 0, &one, err) != FV_OK) goto done;
        total += (size_t)one.count;
        free_names(&one);
    }
    if (total == 0) {
        fv_fail(err, "%s: no PNG/JPEG images in its class subfolders", dir);
        goto done;
    }
    size_t at = 0;
    for (int c = 0; c < classes.count; c++) {
        char sub[4096];
        snprintf(sub, sizeof sub, "%s/%s", dir, classes.names[c]);
        if (list_dir(sub, 0, &files, err) != FV_OK) goto done;
        for (int f = 0; f < files.count && at < total; f++, at++) {
            char path[8192];
            snprintf(path, sizeof path, "%s/%s", sub, files.names[f]);
            int w, h, n;
            unsigned char *pixels = stbi_load(path, &w, &h, &n, channels);
            if (!pixels) {
                fv_fail(err, "%s: cannot decode: %s", path, stbi_failure_reason());
                fv_dataset_free(d), d = NULL;
                goto done;
            }
            if (!d) {
                if (height <= 0 || width <= 0) height = h, width = w;
                d = fv_dataset_new(total, (fv_shape){3, {height, width, channels}}, classes.count, err);
                resized = malloc((size_t)height * width * channels);
                if (!d || !resized) {
                    stbi_image_free(pixels);
                    if (d && !resized) fv_fail(err, "out of memory");
                    fv_dataset_free(d), d = NULL;
                    goto done;
                }
                for (int k = 0; k < classes.count; k++) snprintf(d->class_names[k], FV_CLASS_NAME_MAX, "%s", classes.names[k]);
            }
            const unsigned char *src = pixels;
            if (w != width || h != height) {
                stbir_resize_uint8(pixels, w, h, 0, resized, width, height, 0, channels);
                src = resized;
            }
            float *x = d->x + at * (size_t)height * width * channels;
            for (size_t i = 0; i < (size_t)height * width * channels; i++) x[i] = (float)src[i] / 255.0f;
            d->labels[at] = c;
            stbi_image_free(pixels);
        }
        free_names(&files);
    }
done:
    free(resized);
    free_names(&classes);
    free_names(&files);
    return d;
}

fv_status fv_load_image(const char *path, int height, int width, int channels, float *out, fv_error *err) {
    if (channels != 1 && channels != 3) return fv_fail(err, "images load with 1 or 3 channels, not %d", channels);
    int w, h, n;
    unsigned char *pixels = stbi_load(path, &w, &h, &n, channels);
    if (!pixels) return fv_fail(err, "%s: cannot decode: %s", path, stbi_failure_reason());
    size_t count = (size_t)height * width * channels;
    unsigned char *src = pixels, *resized = NULL;
    if (w != width || h != height) {
        if (!(resized = malloc(count))) return stbi_image_free(pixels), fv_fail(err, "out of memory");
        stbir_resize_uint8(pixels, w, h, 0, resized, width, height, 0, channels);
        src = resized;
    }
    for (size_t i = 0; i < count; i++) out[i] = (float)src[i] / 255.0f;
    free(resized);
    stbi_image_free(pixels);
    return FV_OK;
}
