#!/usr/bin/env python3
"""Builds the demo VPC's shape (config/demo.toml) through vpcd's EC2 API with boto3,
waiting with boto3's own waiters as a program against AWS would: the same VPC, subnets,
gateways, route tables, groups, network ACL and instances as scripts/ec2-demo.sh.

    AWS_SHARED_CREDENTIALS_FILE=/var/lib/vpcd/api-credentials scripts/ec2-demo.py
    ip netns exec web ping -c 1 10.0.2.10

ENDPOINT (default http://127.0.0.1:4566) and AWS_DEFAULT_REGION (us-east-1) may be set.
"""
import os

import boto3

region = os.environ.get("AWS_DEFAULT_REGION", "us-east-1")
ec2 = boto3.client(
    "ec2",
    region_name=region,
    endpoint_url=os.environ.get("ENDPOINT", "http://127.0.0.1:4566"),
)
fast = {"Delay": 1, "MaxAttempts": 60}


def tags(kind, name):
    return [{"ResourceType": kind, "Tags": [{"Key": "Name", "Value": name}]}]


vpc = ec2.create_vpc(CidrBlock="10.0.0.0/16", TagSpecifications=tags("vpc", "demo"))["Vpc"]["VpcId"]
ec2.get_waiter("vpc_available").wait(VpcIds=[vpc], WaiterConfig=fast)


def subnet(name, cidr, zone):
    s = ec2.create_subnet(
        VpcId=vpc, CidrBlock=cidr, AvailabilityZone=region + zone,
        TagSpecifications=tags("subnet", name),
    )["Subnet"]["SubnetId"]
    ec2.get_waiter("subnet_available").wait(SubnetIds=[s], WaiterConfig=fast)
    return s


public_a = subnet("public-a", "10.0.1.0/24", "a")
private_a = subnet("private-a", "10.0.2.0/24", "a")
public_b = subnet("public-b", "10.0.11.0/24", "b")
private_b = subnet("private-b", "10.0.12.0/24", "b")

igw = ec2.create_internet_gateway(TagSpecifications=tags("internet-gateway", "igw"))
igw = igw["InternetGateway"]["InternetGatewayId"]
ec2.attach_internet_gateway(InternetGatewayId=igw, VpcId=vpc)


def nat(name, subnet_id):
    eip = ec2.allocate_address(Domain="vpc", TagSpecifications=tags("elastic-ip", name + "-eip"))
    return ec2.create_nat_gateway(
        SubnetId=subnet_id, AllocationId=eip["AllocationId"],
        TagSpecifications=tags("natgateway", name),
    )["NatGateway"]["NatGatewayId"]


nat_a, nat_b = nat("nat-a", public_a), nat("nat-b", public_b)
ec2.get_waiter("nat_gateway_available").wait(NatGatewayIds=[nat_a, nat_b], WaiterConfig=fast)


def table(name, target, subnets):
    rt = ec2.create_route_table(VpcId=vpc, TagSpecifications=tags("route-table", name))
    rt = rt["RouteTable"]["RouteTableId"]
    ec2.create_route(RouteTableId=rt, DestinationCidrBlock="0.0.0.0/0", **target)
    for s in subnets:
        ec2.associate_route_table(RouteTableId=rt, SubnetId=s)


table("public-rt", {"GatewayId": igw}, [public_a, public_b])
table("private-a-rt", {"NatGatewayId": nat_a}, [private_a])
table("private-b-rt", {"NatGatewayId": nat_b}, [private_b])


def group(name, description):
    g = ec2.create_security_group(
        VpcId=vpc, GroupName=name, Description=description,
        TagSpecifications=tags("security-group", name),
    )["GroupId"]
    ec2.get_waiter("security_group_exists").wait(GroupIds=[g], WaiterConfig=fast)
    return g


def cidr(proto, port, block):
    return {"IpProtocol": proto, "FromPort": port, "ToPort": port, "IpRanges": [{"CidrIp": block}]}


def member(port, group_id):
    return {"IpProtocol": "tcp", "FromPort": port, "ToPort": port,
            "UserIdGroupPairs": [{"GroupId": group_id}]}


web_sg = group("web-sg", "web: 80 from anywhere, 22 and icmp from the VPC")
app_sg = group("app-sg", "app: 8080 from web-sg, icmp from the VPC")
db_sg = group("db-sg", "db: 5432 from app-sg")
ec2.authorize_security_group_ingress(GroupId=web_sg, IpPermissions=[
    cidr("tcp", 80, "0.0.0.0/0"), cidr("tcp", 22, "10.0.0.0/16"), cidr("icmp", -1, "10.0.0.0/16")])
ec2.authorize_security_group_ingress(GroupId=app_sg, IpPermissions=[
    member(8080, web_sg), cidr("icmp", -1, "10.0.0.0/16")])
ec2.authorize_security_group_ingress(GroupId=db_sg, IpPermissions=[member(5432, app_sg)])

acl = ec2.create_network_acl(VpcId=vpc, TagSpecifications=tags("network-acl", "private-b-nacl"))
acl = acl["NetworkAcl"]["NetworkAclId"]
for number, egress, action, block in [(100, False, "deny", "10.0.1.0/24"),
                                      (200, False, "allow", "0.0.0.0/0"),
                                      (100, True, "allow", "0.0.0.0/0")]:
    ec2.create_network_acl_entry(NetworkAclId=acl, RuleNumber=number, Egress=egress, Protocol="-1",
                                 RuleAction=action, CidrBlock=block)
current = ec2.describe_network_acls(Filters=[{"Name": "association.subnet-id", "Values": [private_b]}])
association = next(a["NetworkAclAssociationId"]
                   for n in current["NetworkAcls"] for a in n["Associations"]
                   if a["SubnetId"] == private_b)
ec2.replace_network_acl_association(AssociationId=association, NetworkAclId=acl)

image = ec2.describe_images(Owners=["amazon"])["Images"][0]["ImageId"]


def instance(name, subnet_id, address, group_id):
    return ec2.run_instances(
        ImageId=image, InstanceType="t3.micro", MinCount=1, MaxCount=1,
        SubnetId=subnet_id, PrivateIpAddress=address, SecurityGroupIds=[group_id],
        TagSpecifications=tags("instance", name),
    )["Instances"][0]["InstanceId"]


web = instance("web", public_a, "10.0.1.10", web_sg)
app = instance("app", private_a, "10.0.2.10", app_sg)
db = instance("db", private_b, "10.0.12.10", db_sg)
ec2.get_waiter("instance_running").wait(InstanceIds=[web, app, db], WaiterConfig=fast)
ec2.get_waiter("instance_status_ok").wait(InstanceIds=[web, app, db], WaiterConfig=fast)

eip = ec2.allocate_address(Domain="vpc", TagSpecifications=tags("elastic-ip", "web-eip"))
ec2.associate_address(AllocationId=eip["AllocationId"], InstanceId=web)
print(f"vpc {vpc}: web {web} ({eip['PublicIp']}), app {app}, db {db}")
