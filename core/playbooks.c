/* playbooks.c: the built-in emergency playbooks, one per incident of domain.md, after
 * DB43/T 2422.4 §6 (clause in each comment). emergency_new() copies and resolves them against the
 * config's GPIO lines; these tables are never modified. Conventional output lines (1 = active):
 * door_main 1 = released, power_nonfire 0 = cut, hvac_fans 0 = stopped, siren 1 = sounding,
 * windows_open 1 = opening, backup_power 1 = switched to backup, water_valve 0 = water cut. */
#include <string.h>

#include "emergency.h"

#define STAFF_TEAM (HK_ROLE_STAFF | HK_ROLE_SECURITY | HK_ROLE_ADMIN)

#define GPIO(l, v) { .do_ = "gpio", .line = l, .value = v }
#define FREEZE { .do_ = "queue_freeze" }
#define DISPLAY(m) { .do_ = "display", .mode = m }
#define DISPLAY_T(m, t) { .do_ = "display", .mode = m, .text = t }
#define ANNOUNCE_LOOP(t) { .do_ = "announce", .text = t, .loop = true }
#define ANNOUNCE(t) { .do_ = "announce", .text = t }
#define NOTICE(t) { .do_ = "notice", .text = t }
#define CHECK(t) { .do_ = "checklist", .text = t }
#define ALERT(t) { .do_ = "alert", .text = t, .roles = STAFF_TEAM }
#define N(a) (sizeof a / sizeof a[0])

/* The clauses are those of DB43/T 2422.4-2022 (domain.md: "002 Part 4"); docs/emergency.md lists
 * every step with its clause. Checklist items are what people must do and acknowledge: hallkeeper
 * runs the procedure beside a certified fire-alarm panel, never instead of one. */

/* §6.4 fire */
static hk_trigger_cfg fire_trg[] = { { .gpio = "fire_panel", .value = 1 } };
static hk_step_cfg fire_steps[] = {
    GPIO("door_main", 1),                       /* §6.4.3 evacuation: exits released */
    GPIO("power_nonfire", 0),                   /* §6.4.1 cut the power linked to the fire */
    GPIO("siren", 1),
    FREEZE,
    DISPLAY("evacuation"),
    ANNOUNCE_LOOP("各位办事群众请注意，现在发生火警，请听从工作人员指挥，沿疏散指示标志有序撤离。"),
    CHECK("拨打119报警"),                                         /* §6.4.2 */
    CHECK("向突发事件处置小组报告"),                               /* §6.4.2 */
    CHECK("人员撤离后保护现场"),                                   /* §6.4.5 */
    CHECK("切断与火灾相关的电源、气源、火源，搬离易燃物品"),         /* §6.4.1 */
    CHECK("处置小组按分工到位，组织灭火扑救和人员、物资疏散"),       /* §6.4.3 */
    CHECK("疏通疏散通道，现场警戒，维持秩序"),                       /* §6.4.4 */
    CHECK("配合消防队员和医护人员抢救被困伤员"),                     /* §6.4.4 */
};

/* §6.1.1 public security incident (fights, drunkenness, theft, robbery): silent, to the team */
static hk_step_cfg public_security_steps[] = {
    ALERT("大厅发生治安事件：请安保人员到场，保持冷静，保护群众和自身安全"),   /* §6.1.1.1, 6.1.1.3 a */
    CHECK("向突发事件处置小组和公安部门报告（110）"),                 /* §6.1.1.1 */
    CHECK("如有人员受伤，拨打120急救电话"),                           /* §6.1.1.3 b */
    CHECK("保护现场，不触摸痕迹、不移动物品，作案工具交公安机关"),     /* §6.1.1.3 c */
    CHECK("保存现场监控录像"),                                        /* §6.1.1.3 c, 002 P1 §6.2.2 */
    CHECK("记清嫌疑人人数、体貌、衣着、交通工具和号牌，提供给公安机关"), /* §6.1.1.3 d */
    CHECK("协助有关部门维持秩序"),                                    /* §6.1.1.2 */
};

/* §6.1.2 suspicious explosive or other dangerous object: power off first, evacuate by the fire exits */
static hk_step_cfg suspicious_steps[] = {
    GPIO("power_nonfire", 0),                   /* §6.1.2 a */
    GPIO("door_main", 1),
    FREEZE,
    DISPLAY("evacuation"),
    ANNOUNCE_LOOP("各位办事群众请注意，大厅内发现可疑物品，请听从工作人员指挥，沿消防通道有序撤离。"),
    CHECK("向公安机关报警（110）"),                                   /* §6.1.2 b */
    CHECK("向现场安保人员和管理机构报告"),                             /* §6.1.2 b */
};

/* §6.1.3 explosion, toxic gas: stop the air-conditioning fans, open windows, police, evacuate */
static hk_step_cfg explosion_steps[] = {
    GPIO("hvac_fans", 0),                       /* §6.1.3 a */
    GPIO("windows_open", 1),                    /* §6.1.3 b */
    GPIO("door_main", 1),                       /* §6.1.3 d */
    GPIO("siren", 1),
    FREEZE,
    DISPLAY("evacuation"),
    ANNOUNCE_LOOP("各位办事群众请注意，大厅发生紧急情况，请捂住口鼻，听从工作人员指挥，有序撤离。"),
    CHECK("向公安机关报警（110），有人员伤亡拨打120"),                 /* §6.1.3 c, e */
    CHECK("启动消防应急预案"),                                         /* §6.1.3 f */
};

/* §6.1.4 mass incident (petitioners, illegal gathering): silent, to the team only */
static hk_step_cfg mass_steps[] = {
    ALERT("大厅发生群体性事件：请处置小组到场，保持冷静，避免争论，引导来访人员到接待室"),   /* §6.1.4 a-c */
    CHECK("向突发事件处置小组报告"),                                   /* §6.1.4 a */
    CHECK("引导来访人员至僻静的接待室或会议室"),                       /* §6.1.4 c */
    CHECK("如有暴力行为或倾向，通知公安部门和信访部门"),               /* §6.1.4 c */
};

/* §6.1.5 illness, injury */
static hk_step_cfg illness_steps[] = {
    ALERT("大厅有人突发疾病或受伤，请就近工作人员协助"),
    CHECK("拨打120急救电话"),                                         /* §6.1.5.1 */
    CHECK("向突发事件处置小组报告"),                                   /* §6.1.5.1 */
};

/* §6.1.6.1 earthquake: alarm, evacuate, cut water and power */
static hk_step_cfg earthquake_steps[] = {
    GPIO("siren", 1),                           /* §6.1.6.1 b */
    GPIO("door_main", 1),                       /* §6.1.6.1 a, c */
    GPIO("power_nonfire", 0),                   /* §6.1.6.1 d */
    GPIO("water_valve", 0),                     /* §6.1.6.1 d */
    FREEZE,
    DISPLAY("evacuation"),
    ANNOUNCE_LOOP("各位办事群众请注意，现在发生地震，请保护好头部，听从工作人员指挥，有序撤离到室外空旷地带。"),
    CHECK("确认人员已全部撤离"),                                       /* §6.1.6.1 c */
    CHECK("准备灭火器材，救助被困人员"),                               /* §6.1.6.1 e */
};

/* §6.1.6.2.1 typhoon, rainstorm: the duty officer tells property management and helps until the
 * rescue services arrive. No announcement tells people to stay or go: staff decide on site. */
static hk_step_cfg weather_steps[] = {
    ALERT("极端天气：请通知物业部门，协助做好灾情处理，直至救援部门到达"),
    DISPLAY_T("notice", "极端天气预警，请注意安全，听从工作人员安排"),
    NOTICE("各位办事群众请注意，当前出现极端天气，请注意安全，听从工作人员安排。"),
    CHECK("通知物业部门"),                                             /* §6.1.6.2.1 */
    CHECK("协助做好灾情处理，直至救援部门到达现场"),                   /* §6.1.6.2.1 */
};

/* §6.1.6.2.2 flood: staff help the rescue services get people out and rescue the trapped */
static hk_step_cfg flood_steps[] = {
    GPIO("door_main", 1),
    FREEZE,
    DISPLAY("evacuation"),
    ANNOUNCE_LOOP("各位办事群众请注意，大厅发生水灾，请听从工作人员和救援人员指挥，有序撤离到安全地带。"),
    CHECK("联系救援部门（119）"),                                     /* §6.1.6.2.2 */
    CHECK("协助救援部门组织群众逃生"),                                 /* §6.1.6.2.2 */
    CHECK("营救受困人员"),                                             /* §6.1.6.2.2 */
    CHECK("灾后尽快恢复工作秩序"),                                     /* §6.1.6.2.2 */
};

/* §6.2, §5.2.2 epidemic: entrance checks, limit people inside, isolate, report, trace */
static hk_step_cfg epidemic_steps[] = {
    { .do_ = "occupancy", .mode = "cap", .cap = 20 },                  /* §5.2.2 */
    DISPLAY_T("notice", "疫情防控期间，大厅限流，请佩戴口罩，有序等候"),
    NOTICE("各位办事群众请注意，疫情防控期间请佩戴口罩，配合体温检测，保持一米距离。"),
    CHECK("入口体温检测和健康查验"),                                   /* §5.2.2 */
    CHECK("向辖区疫情防控部门报告"),                                   /* §6.2 b */
    CHECK("工作人员每日健康监测，做好个人防护"),                       /* §6.2 b */
    CHECK("可疑病例安排至临时隔离室，等待疫情防控部门处置"),           /* §6.2 b */
    CHECK("追踪病例在中心内的活动轨迹，查找并通知密切接触者"),         /* §6.2 a */
    CHECK("封闭病例活动区域，对相关区域和物品消毒"),                   /* §6.2 b */
};

/* §6.3 network / information-system fault: record, diagnose, report (grade by duration) */
static hk_step_cfg network_steps[] = {
    ALERT("网络/信息系统故障：大厅离线运行，请记录故障并排查"),
    CHECK("记录备案，传递故障信息"),                                   /* §6.3.2 a */
    CHECK("故障诊断，判断故障原因"),                                   /* §6.3.2 b */
    CHECK("上报相关领导"),                                             /* §6.3.2.1 d */
};

/* §6.5.2 power failure: notify, backup power, lifts, the supply; evacuation only when decided
 * (a UPS input must not announce an evacuation by itself: security triggers one if needed). */
static hk_trigger_cfg power_trg[] = { { .gpio = "ups_on_battery", .value = 1 } };
static hk_step_cfg power_steps[] = {
    GPIO("backup_power", 1),                                          /* §6.5.2 a */
    ALERT("大厅停电：请通知物业公司和突发事件处置小组，检查电梯"),     /* §6.5.2 a */
    DISPLAY_T("notice", "大厅临时停电，请保持镇静，听从工作人员指挥"),
    ANNOUNCE("各位办事群众请注意，大厅临时停电，请保持镇静，听从工作人员指挥。"),   /* §6.5.2 f */
    CHECK("检查电梯是否有人员被困"),                                   /* §6.5.2 b */
    CHECK("来电后检查设备"),                                           /* §6.5.2 e */
    CHECK("通知物业公司和突发事件处置小组"),                           /* §6.5.2 a */
    CHECK("检查大楼供电系统，属供电故障的联系供电管理部门"),           /* §6.5.2 c */
    CHECK("必要时由安保在控制台启动疏散，引领群众按应急灯从消防通道撤离"), /* §6.5.2 d */
};

/* §6.5.1 water failure: close public toilets, explain, call for repair */
static hk_step_cfg water_steps[] = {
    DISPLAY_T("notice", "大厅临时停水，公共卫生间暂停使用"),
    NOTICE("各位办事群众请注意，大厅临时停水，公共卫生间暂停使用，给您带来不便，敬请谅解。"),
    CHECK("关闭公共卫生间"),                                           /* §6.5.1 */
    CHECK("向工作人员和办事群众说明情况"),                             /* §6.5.1 */
    CHECK("通知有关单位抢修，尽快恢复供水"),                           /* §6.5.1 */
};

/* Severity: evacuations first (fire 100, explosion_gas 95, earthquake 90, suspicious_object 85,
 * flood 80), then incidents that change what the public sees, then team-only ones
 * (docs/emergency.md). New built-ins go at the end so that playbook indices stay stable. */
static const hk_playbook_cfg builtins[] = {
    { .id = "fire", .name = "火警", .severity = 100, .triggers = fire_trg, .ntriggers = N(fire_trg),
      .report = HK_REPORT_NOW, .steps = fire_steps, .nsteps = N(fire_steps) },
    { .id = "suspicious_object", .name = "可疑物品", .severity = 85, .report = HK_REPORT_CONFIRM,
      .steps = suspicious_steps, .nsteps = N(suspicious_steps) },
    { .id = "explosion_gas", .name = "爆炸/有毒气体", .severity = 95, .report = HK_REPORT_CONFIRM,
      .steps = explosion_steps, .nsteps = N(explosion_steps) },
    { .id = "mass_incident", .name = "群体性事件", .silent = true, .severity = 10, .report = HK_REPORT_NOW,
      .steps = mass_steps, .nsteps = N(mass_steps) },
    { .id = "illness", .name = "突发疾病/受伤", .severity = 30, .report = HK_REPORT_NOW,
      .steps = illness_steps, .nsteps = N(illness_steps) },
    { .id = "earthquake", .name = "地震", .severity = 90, .report = HK_REPORT_CONFIRM,
      .steps = earthquake_steps, .nsteps = N(earthquake_steps) },
    { .id = "extreme_weather", .name = "极端天气", .severity = 50,
      .steps = weather_steps, .nsteps = N(weather_steps) },
    { .id = "epidemic", .name = "疫情", .severity = 40,
      .steps = epidemic_steps, .nsteps = N(epidemic_steps) },
    { .id = "network_fault", .name = "网络/信息系统故障", .severity = 15,
      .steps = network_steps, .nsteps = N(network_steps) },
    { .id = "power_failure", .name = "停电", .severity = 60, .triggers = power_trg, .ntriggers = N(power_trg),
      .steps = power_steps, .nsteps = N(power_steps) },
    { .id = "water_failure", .name = "停水", .severity = 20,
      .steps = water_steps, .nsteps = N(water_steps) },
    { .id = "public_security", .name = "治安事件", .silent = true, .severity = 25, .report = HK_REPORT_NOW,
      .steps = public_security_steps, .nsteps = N(public_security_steps) },
    { .id = "flood", .name = "水灾", .severity = 80, .report = HK_REPORT_CONFIRM,
      .steps = flood_steps, .nsteps = N(flood_steps) },
};

/* What a person does by hand when a built-in output step's line is not wired in this hall (a small
 * hall without an HVAC relay): the step becomes a checklist item instead of disappearing. */
static const struct { const char *line; int value; const char *text; } manual[] = {
    { "door_main", 1, "手动打开所有出入口门禁" },
    { "power_nonfire", 0, "手动切断非消防电源" },
    { "hvac_fans", 0, "手动关闭空调风机" },
    { "siren", 1, "手动启动警报" },
    { "windows_open", 1, "手动开启窗户通风" },
    { "backup_power", 1, "手动启用备用电源" },
    { "water_valve", 0, "手动关闭供水总阀" },
};

const char *playbook_manual_text(const char *line, int value)
{
    for (size_t i = 0; line && i < N(manual); i++)
        if (manual[i].value == value && strcmp(manual[i].line, line) == 0) return manual[i].text;
    return NULL;
}

size_t playbook_builtin_count(void) { return N(builtins); }

const hk_playbook_cfg *playbook_builtin(size_t i) { return i < N(builtins) ? &builtins[i] : NULL; }

const hk_playbook_cfg *playbook_builtin_find(const char *id)
{
    for (size_t i = 0; id && i < N(builtins); i++)
        if (strcmp(builtins[i].id, id) == 0)
            return &builtins[i];
    return NULL;
}
