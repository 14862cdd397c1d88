/* config.c: lookups over a loaded hk_config, role names, and freeing. Pure: libc only.
 * io/config/config_load.c builds the struct; everything here also copes with a half-built one. */
#include "config.h"

#include <stdlib.h>
#include <string.h>

static const struct { int role; const char *name; } role_names[] = {
    { HK_ROLE_KIOSK, "kiosk" },
    { HK_ROLE_DISPLAY, "display" },
    { HK_ROLE_STAFF, "staff" },
    { HK_ROLE_SECURITY, "security" },
    { HK_ROLE_ADMIN, "admin" },
    /* phones with a ticket's own key (docs/mobile.md): granted by hello, never by a config token */
    { HK_ROLE_VISITOR, "visitor" },
};

const char *hk_role_name(int role)
{
    for (size_t i = 0; i < sizeof role_names / sizeof role_names[0]; i++)
        if (role_names[i].role == role)
            return role_names[i].name;
    return "none";
}

int hk_role_parse(const char *s)
{
    if (!s)
        return 0;
    for (size_t i = 0; i < sizeof role_names / sizeof role_names[0]; i++)
        if (strcmp(role_names[i].name, s) == 0 && role_names[i].role != HK_ROLE_VISITOR)
            return role_names[i].role;
    return 0;
}

static void free_strv(char **v, size_t n)
{
    if (!v)
        return;
    for (size_t i = 0; i < n; i++)
        free(v[i]);
    free(v);
}

static void free_playbook(hk_playbook_cfg *p)
{
    free(p->id);
    free(p->name);
    for (size_t i = 0; p->triggers && i < p->ntriggers; i++)
        free(p->triggers[i].gpio);
    free(p->triggers);
    for (size_t i = 0; p->steps && i < p->nsteps; i++) {
        hk_step_cfg *s = &p->steps[i];
        free(s->do_);
        free(s->line);
        free(s->mode);
        free(s->text);
        free_strv(s->zones, s->nzones);
    }
    free(p->steps);
}

void hk_config_free(hk_config *c)
{
    if (!c)
        return;
    free(c->hall_id);
    free(c->hall_name);
    free(c->listen);
    free(c->tls_cert);
    for (size_t i = 0; i < c->nhosts; i++) free(c->hosts[i]);
    free(c->hosts);
    free(c->tls_key);
    free(c->redis_url);
    free(c->hours);
    for (size_t i = 0; c->tokens && i < c->ntokens; i++) {
        free(c->tokens[i].token);
        free(c->tokens[i].staff);
    }
    free(c->tokens);
    for (size_t i = 0; c->staff && i < c->nstaff; i++) {
        free(c->staff[i].id);
        free(c->staff[i].name);
        free(c->staff[i].title);
        free(c->staff[i].photo);
    }
    free(c->staff);
    for (size_t i = 0; c->categories && i < c->ncategories; i++) {
        free(c->categories[i].id);
        free(c->categories[i].name);
    }
    free(c->categories);
    for (size_t i = 0; c->windows && i < c->nwindows; i++) {
        free(c->windows[i].name);
        free_strv(c->windows[i].categories, c->windows[i].ncategories);
        free(c->windows[i].zone);
    }
    free(c->windows);
    for (size_t i = 0; c->work.posts && i < c->nwindows; i++) {
        free(c->work.posts[i].a);
        free(c->work.posts[i].b);
    }
    free(c->work.posts);
    free(c->work.cat_alerts);
    for (size_t i = 0; c->matters && i < c->nmatters; i++) {
        free(c->matters[i].id);
        free(c->matters[i].name);
        free(c->matters[i].category);
    }
    free(c->matters);
    for (size_t i = 0; c->rating_reasons && i < c->nrating_reasons; i++) free(c->rating_reasons[i]);
    free(c->rating_reasons);
    free(c->mobile.public_url);
    free(c->printer.device);
    free(c->printer.tcp);
    free(c->ups.host);
    free(c->ups.name);
    free(c->redis_password);
    free(c->redis_username);
    free(c->redis_sentinel_password);
    free_strv(c->redis_sentinels, c->nredis_sentinels);
    free(c->redis_master);
    free(c->gpio_backend);
    for (size_t i = 0; c->gpio_lines && i < c->ngpio_lines; i++) {
        free(c->gpio_lines[i].name);
        free(c->gpio_lines[i].chip);
        free(c->gpio_lines[i].feedback);
    }
    free(c->gpio_lines);
    free(c->audio.sink);
    free(c->audio.path);
    free(c->audio.device);
    free_strv(c->audio.voices, c->audio.nvoices);
    for (size_t i = 0; c->playbooks && i < c->nplaybooks; i++)
        free_playbook(&c->playbooks[i]);
    free(c->playbooks);
    memset(c, 0, sizeof *c);
}

const hk_category_cfg *hk_config_category(const hk_config *c, const char *id)
{
    if (!c || !id)
        return NULL;
    for (size_t i = 0; i < c->ncategories; i++)
        if (c->categories[i].id && strcmp(c->categories[i].id, id) == 0)
            return &c->categories[i];
    return NULL;
}

const hk_window_cfg *hk_config_window(const hk_config *c, int id)
{
    if (!c)
        return NULL;
    for (size_t i = 0; i < c->nwindows; i++)
        if (c->windows[i].id == id)
            return &c->windows[i];
    return NULL;
}

const hk_staff_cfg *hk_config_staff(const hk_config *c, const char *id)
{
    if (!c || !id)
        return NULL;
    for (size_t i = 0; i < c->nstaff; i++)
        if (c->staff[i].id && strcmp(c->staff[i].id, id) == 0)
            return &c->staff[i];
    return NULL;
}
