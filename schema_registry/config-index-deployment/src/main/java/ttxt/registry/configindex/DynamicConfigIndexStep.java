package ttxt.registry.configindex;

import java.util.ArrayList;
import java.util.List;

import org.jboss.jandex.AnnotationInstance;
import org.jboss.jandex.AnnotationValue;
import org.jboss.jandex.DotName;

import apicurio.common.app.components.config.index.DynamicPropertiesInfoRecorder;
import io.apicurio.common.apps.config.DynamicConfigPropertyDef;
import io.apicurio.common.apps.config.DynamicConfigPropertyList;
import io.quarkus.arc.deployment.BeanDiscoveryFinishedBuildItem;
import io.quarkus.arc.deployment.SyntheticBeanBuildItem;
import io.quarkus.arc.processor.InjectionPointInfo;
import io.quarkus.deployment.annotations.BuildProducer;
import io.quarkus.deployment.annotations.BuildStep;
import io.quarkus.deployment.annotations.ExecutionTime;
import io.quarkus.deployment.annotations.Record;

/**
 * Build step of Apicurio's "config index" extension, whose deployment jar Maven Central does not
 * serve here: lists the injected {@code @ConfigProperty @Dynamic Supplier<T>} fields (properties
 * an admin may change at run time) as the {@code DynamicConfigPropertyList} bean the registry injects.
 */
class DynamicConfigIndexStep {

    private static final DotName CONFIG_PROPERTY =
            DotName.createSimple("org.eclipse.microprofile.config.inject.ConfigProperty");
    private static final DotName DYNAMIC = DotName.createSimple("io.apicurio.common.apps.config.Dynamic");

    @BuildStep
    @Record(ExecutionTime.RUNTIME_INIT)
    void dynamicPropertyList(DynamicPropertiesInfoRecorder recorder, BeanDiscoveryFinishedBuildItem beans,
            BuildProducer<SyntheticBeanBuildItem> synthetic) throws ClassNotFoundException {
        List<DynamicConfigPropertyDef> defs = new ArrayList<>();
        for (InjectionPointInfo point : beans.getInjectionPoints()) {
            AnnotationInstance property = point.getRequiredQualifier(CONFIG_PROPERTY);
            if (property == null || !point.isField() || point.getTarget().asField().annotation(DYNAMIC) == null) {
                continue;
            }
            AnnotationInstance dynamic = point.getTarget().asField().annotation(DYNAMIC);
            String name = property.value("name").asString();
            AnnotationValue fallback = property.value("defaultValue");
            if (fallback == null) {
                throw new IllegalStateException("dynamic property " + name + " has no default value");
            }
            String typeName = point.getRequiredType().asParameterizedType().arguments().get(0).name().toString();
            Class<?> type = Class.forName(typeName, false, Thread.currentThread().getContextClassLoader());
            DynamicConfigPropertyDef def = new DynamicConfigPropertyDef(name, type, fallback.asString());
            if (dynamic.value("label") != null) {
                def.setLabel(dynamic.value("label").asString());
            }
            if (dynamic.value("description") != null) {
                def.setDescription(dynamic.value("description").asString());
            }
            if (dynamic.value("requires") != null) {
                def.setRequires(dynamic.value("requires").asStringArray());
            }
            defs.add(def);
        }
        synthetic.produce(SyntheticBeanBuildItem.configure(DynamicConfigPropertyList.class)
                .runtimeValue(recorder.initializePropertiesInfo(defs))
                .unremovable()
                .setRuntimeInit()
                .done());
    }
}
