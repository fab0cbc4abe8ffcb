#!/usr/bin/env bash
# Builds the demo VPC's shape (config/demo.toml) through vpcd's EC2 API with nothing but
# the AWS CLI: a VPC, four subnets in two zones, an internet gateway, two NAT gateways
# with Elastic IPs, route tables, security groups that reference each other, a network
# ACL, and three instances (web with an Elastic IP, app, db), each a namespace named
# after its Name tag. Run it against `vpcd run --api 127.0.0.1:4566` started from a
# file with only the emulated internet (or an empty one):
#
#   AWS_SHARED_CREDENTIALS_FILE=/var/lib/vpcd/api-credentials scripts/ec2-demo.sh
#   ip netns exec web ping -c 1 10.0.2.10
#
# ENDPOINT (default http://127.0.0.1:4566) and AWS_DEFAULT_REGION (us-east-1) may be set.
set -euo pipefail
export AWS_DEFAULT_REGION="${AWS_DEFAULT_REGION:-us-east-1}"
ENDPOINT="${ENDPOINT:-http://127.0.0.1:4566}"
ec2() { aws ec2 --endpoint-url "$ENDPOINT" --output text "$@"; }
name() { echo "ResourceType=$1,Tags=[{Key=Name,Value=$2}]"; }

vpc=$(ec2 create-vpc --cidr-block 10.0.0.0/16 --tag-specifications "$(name vpc demo)" --query Vpc.VpcId)
subnet() { # name cidr zone
    ec2 create-subnet --vpc-id "$vpc" --cidr-block "$2" --availability-zone "${AWS_DEFAULT_REGION}$3" \
        --tag-specifications "$(name subnet "$1")" --query Subnet.SubnetId
}
public_a=$(subnet public-a 10.0.1.0/24 a)
private_a=$(subnet private-a 10.0.2.0/24 a)
public_b=$(subnet public-b 10.0.11.0/24 b)
private_b=$(subnet private-b 10.0.12.0/24 b)

igw=$(ec2 create-internet-gateway --tag-specifications "$(name internet-gateway igw)" \
    --query InternetGateway.InternetGatewayId)
ec2 attach-internet-gateway --internet-gateway-id "$igw" --vpc-id "$vpc" >/dev/null

nat() { # name subnet
    local eip
    eip=$(ec2 allocate-address --domain vpc --tag-specifications "$(name elastic-ip "$1-eip")" \
        --query AllocationId)
    ec2 create-nat-gateway --subnet-id "$2" --allocation-id "$eip" \
        --tag-specifications "$(name natgateway "$1")" --query NatGateway.NatGatewayId
}
nat_a=$(nat nat-a "$public_a")
nat_b=$(nat nat-b "$public_b")
ec2 wait nat-gateway-available --nat-gateway-ids "$nat_a" "$nat_b"

table() { # name target-option target subnet...
    local rt
    rt=$(ec2 create-route-table --vpc-id "$vpc" --tag-specifications "$(name route-table "$1")" \
        --query RouteTable.RouteTableId)
    ec2 create-route --route-table-id "$rt" --destination-cidr-block 0.0.0.0/0 "$2" "$3" >/dev/null
    shift 3
    for s in "$@"; do
        ec2 associate-route-table --route-table-id "$rt" --subnet-id "$s" >/dev/null
    done
}
table public-rt --gateway-id "$igw" "$public_a" "$public_b"
table private-a-rt --nat-gateway-id "$nat_a" "$private_a"
table private-b-rt --nat-gateway-id "$nat_b" "$private_b"

group() { # name description
    ec2 create-security-group --vpc-id "$vpc" --group-name "$1" --description "$2" \
        --tag-specifications "$(name security-group "$1")" --query GroupId
}
web_sg=$(group web-sg "web: 80 from anywhere, 22 and icmp from the VPC")
app_sg=$(group app-sg "app: 8080 from web-sg, icmp from the VPC")
db_sg=$(group db-sg "db: 5432 from app-sg")
ec2 authorize-security-group-ingress --group-id "$web_sg" --ip-permissions \
    'IpProtocol=tcp,FromPort=80,ToPort=80,IpRanges=[{CidrIp=0.0.0.0/0}]' \
    'IpProtocol=tcp,FromPort=22,ToPort=22,IpRanges=[{CidrIp=10.0.0.0/16}]' \
    'IpProtocol=icmp,FromPort=-1,ToPort=-1,IpRanges=[{CidrIp=10.0.0.0/16}]' >/dev/null
ec2 authorize-security-group-ingress --group-id "$app_sg" --ip-permissions \
    "IpProtocol=tcp,FromPort=8080,ToPort=8080,UserIdGroupPairs=[{GroupId=$web_sg}]" \
    'IpProtocol=icmp,FromPort=-1,ToPort=-1,IpRanges=[{CidrIp=10.0.0.0/16}]' >/dev/null
ec2 authorize-security-group-ingress --group-id "$db_sg" --ip-permissions \
    "IpProtocol=tcp,FromPort=5432,ToPort=5432,UserIdGroupPairs=[{GroupId=$app_sg}]" >/dev/null

# private-b's network ACL: nothing from public-a, everything else.
acl=$(ec2 create-network-acl --vpc-id "$vpc" --tag-specifications "$(name network-acl private-b-nacl)" \
    --query NetworkAcl.NetworkAclId)
ec2 create-network-acl-entry --network-acl-id "$acl" --ingress --rule-number 100 --protocol -1 \
    --rule-action deny --cidr-block 10.0.1.0/24 >/dev/null
ec2 create-network-acl-entry --network-acl-id "$acl" --ingress --rule-number 200 --protocol -1 \
    --rule-action allow --cidr-block 0.0.0.0/0 >/dev/null
ec2 create-network-acl-entry --network-acl-id "$acl" --egress --rule-number 100 --protocol -1 \
    --rule-action allow --cidr-block 0.0.0.0/0 >/dev/null
old=$(ec2 describe-network-acls --filters "Name=association.subnet-id,Values=$private_b" \
    --query "NetworkAcls[].Associations[?SubnetId=='$private_b'].NetworkAclAssociationId")
ec2 replace-network-acl-association --association-id "$old" --network-acl-id "$acl" >/dev/null

instance() { # name subnet address group
    ec2 run-instances --image-id "$image" --instance-type t3.micro --subnet-id "$2" \
        --private-ip-address "$3" --security-group-ids "$4" \
        --tag-specifications "$(name instance "$1")" --query 'Instances[0].InstanceId'
}
image=$(ec2 describe-images --owners amazon --query 'Images[0].ImageId')
web=$(instance web "$public_a" 10.0.1.10 "$web_sg")
app=$(instance app "$private_a" 10.0.2.10 "$app_sg")
db=$(instance db "$private_b" 10.0.12.10 "$db_sg")
ec2 wait instance-running --instance-ids "$web" "$app" "$db"

web_eip=$(ec2 allocate-address --domain vpc --tag-specifications "$(name elastic-ip web-eip)" \
    --query AllocationId)
ec2 associate-address --allocation-id "$web_eip" --instance-id "$web" >/dev/null
public=$(ec2 describe-addresses --allocation-ids "$web_eip" --query 'Addresses[0].PublicIp')
echo "vpc $vpc: web $web ($public), app $app, db $db"
